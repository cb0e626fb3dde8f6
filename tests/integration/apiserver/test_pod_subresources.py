"""Pod subresources: binding (and the bindings resource), eviction with disruption budgets, the streaming
ones that wait for a node agent, and graceful deletion as kubectl drives it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from kubelite.apiserver.resource import ApiResource, GroupVersionKind, Subresource
from kubelite.apiserver.table import load_resources
from tests.integration.apiserver.conftest import RunningServer, start_server, stop_server

# Budgets are served here whether or not the shared resource table lists them yet.
PDBS = ApiResource(
    group="policy",
    version="v1",
    kind="PodDisruptionBudget",
    plural="poddisruptionbudgets",
    singular="poddisruptionbudget",
    namespaced=True,
    short_names=("pdb",),
    subresources=(
        Subresource(
            "status", GroupVersionKind("policy", "v1", "PodDisruptionBudget"), ("get", "patch", "update")
        ),
    ),
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    resources = load_resources()
    if not any(r.plural == PDBS.plural for r in resources):
        resources.append(PDBS)
    running, thread = start_server(tmp_path / "data", resources=resources)
    try:
        yield running
    finally:
        stop_server(running, thread)


@pytest.fixture
def core(server: RunningServer) -> Any:
    return client.CoreV1Api(server.python_client())


def _pod(name: str, *, node: str = "", **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx"}]}
    if node:
        spec["nodeName"] = node
    return {"metadata": {"name": name, "labels": labels}, "spec": spec}


def _binding(name: str, node: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "target": {"kind": "Node", "name": node}}


def _released(answer: Any) -> Any:
    """A raw (`_preload_content=False`) answer, read and its connection handed back to the pool: unread,
    it keeps its socket open until the garbage collector finds it."""
    answer.data  # noqa: B018 - reads and keeps the body
    answer.release_conn()
    return answer


def _status(exc: client.ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def _running(core: Any, name: str) -> None:
    """Running and Ready: budgets protect only healthy pods."""
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    core.patch_namespaced_pod_status(name, "default", {"status": status})


def test_binding_assigns_a_node_once(core: Any) -> None:
    core.create_namespaced_pod("default", _pod("p"))
    # The answer is a Status, which the client cannot read as a Binding: take it raw.
    answer = _released(
        core.create_namespaced_pod_binding("p", "default", _binding("p", "n1"), _preload_content=False)
    )
    assert answer.status == 201 and json.loads(answer.data)["status"] == "Success"
    pod = core.read_namespaced_pod("p", "default")
    assert pod.spec.node_name == "n1"
    assert [(c.type, c.status) for c in pod.status.conditions] == [("PodScheduled", "True")]

    with pytest.raises(client.ApiException) as again:
        core.create_namespaced_pod_binding("p", "default", _binding("p", "n2"), _preload_content=False)
    assert again.value.status == 409
    assert _status(again.value)["message"] == (
        'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n1"'
    )
    with pytest.raises(client.ApiException) as mismatch:
        core.create_namespaced_pod_binding("p", "default", _binding("q", "n2"), _preload_content=False)
    assert mismatch.value.status == 400
    assert _status(mismatch.value)["message"] == "name in URL does not match name in Binding object"


def test_the_bindings_resource_binds_too_and_stores_nothing(core: Any) -> None:
    core.create_namespaced_pod("default", _pod("q"))
    answer = _released(core.create_namespaced_binding("default", _binding("q", "n1"), _preload_content=False))
    assert answer.status == 201
    assert core.read_namespaced_pod("q", "default").spec.node_name == "n1"
    with pytest.raises(client.ApiException) as invalid:
        core.create_namespaced_binding(
            "default", {"metadata": {"name": "q"}, "target": {}}, _preload_content=False
        )
    assert invalid.value.status == 422
    assert "target.name: Required value" in _status(invalid.value)["message"]
    with pytest.raises(client.ApiException) as missing:
        core.create_namespaced_binding("default", _binding("ghost", "n1"), _preload_content=False)
    assert missing.value.status == 404


def _evict(core: Any, name: str, **options: Any) -> Any:
    body: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    if options:
        body["deleteOptions"] = options
    return _released(core.create_namespaced_pod_eviction(name, "default", body, _preload_content=False))


def _budget(server: RunningServer, *, allowed: int, observed: bool = True) -> None:
    policy = client.PolicyV1Api(server.python_client())
    body = {
        "metadata": {"name": "budget"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
    }
    created = policy.create_namespaced_pod_disruption_budget("default", body)
    status = {
        "observedGeneration": created.metadata.generation if observed else 0,
        "disruptionsAllowed": allowed,
        "currentHealthy": 1 + allowed,
        "desiredHealthy": 1,
        "expectedPods": 1 + allowed,
    }
    policy.patch_namespaced_pod_disruption_budget_status("budget", "default", {"status": status})


def test_eviction_of_a_pod_no_budget_protects(core: Any) -> None:
    core.create_namespaced_pod("default", _pod("pending", app="db"))
    assert _evict(core, "pending").status == 201
    with pytest.raises(client.ApiException) as gone:
        core.read_namespaced_pod("pending", "default")
    assert gone.value.status == 404


def test_eviction_respects_a_budget_with_no_disruption_left(server: RunningServer, core: Any) -> None:
    core.create_namespaced_pod("default", _pod("db-0", node="n1", app="db"))
    _running(core, "db-0")
    _budget(server, allowed=0)
    with pytest.raises(client.ApiException) as refused:
        _evict(core, "db-0")
    assert refused.value.status == 429
    status = _status(refused.value)
    assert status["reason"] == "TooManyRequests"
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget budget needs 1 healthy pods and has 1 currently",
        }
    ]
    assert core.read_namespaced_pod("db-0", "default").metadata.deletion_timestamp is None


def test_eviction_waits_for_a_budget_being_processed(server: RunningServer, core: Any) -> None:
    core.create_namespaced_pod("default", _pod("db-1", node="n1", app="db"))
    _running(core, "db-1")
    _budget(server, allowed=1, observed=False)
    with pytest.raises(client.ApiException) as refused:
        _evict(core, "db-1")
    assert refused.value.status == 429
    cause = _status(refused.value)["details"]["causes"][0]["message"]
    assert cause == "The disruption budget budget is still being processed by the server."


def test_eviction_takes_one_disruption_and_deletes_gracefully(server: RunningServer, core: Any) -> None:
    core.create_namespaced_pod("default", _pod("db-2", node="n1", app="db"))
    _running(core, "db-2")
    _budget(server, allowed=1)
    assert _evict(core, "db-2").status == 201
    pod = core.read_namespaced_pod("db-2", "default")
    assert pod.metadata.deletion_timestamp is not None and pod.metadata.deletion_grace_period_seconds == 30
    budget = client.PolicyV1Api(server.python_client()).read_namespaced_pod_disruption_budget(
        "budget", "default"
    )
    assert budget.status.disruptions_allowed == 0 and list(budget.status.disrupted_pods) == ["db-2"]
    assert _evict(core, "db-2", gracePeriodSeconds=0).status == 201  # already deleting: no budget needed
    with pytest.raises(client.ApiException) as gone:
        core.read_namespaced_pod("db-2", "default")
    assert gone.value.status == 404


def test_kubectl_drain_evicts_the_pods_of_a_node(server: RunningServer, core: Any) -> None:
    core.create_node({"metadata": {"name": "n1"}})
    core.create_namespaced_pod("default", _pod("web", node="n1"))
    out = server.kubectl("drain", "n1", "--force", "--grace-period=0", "--timeout=30s")
    assert "pod/web evicted" in out.stdout and "node/n1 drained" in out.stdout
    assert core.read_node("n1").spec.unschedulable is True


def test_streams_to_a_node_without_a_reachable_agent_fail_at_once(server: RunningServer, core: Any) -> None:
    core.create_namespaced_pod("default", _pod("idle"))
    assert server.kubectl("logs", "idle").stdout == ""  # no node yet: empty, as upstream
    unbound = server.kubectl("exec", "idle", "--", "ls", check=False, timeout=20)
    assert unbound.stderr.strip() == "Error from server (BadRequest): pod idle does not have a host assigned"

    core.create_node({"metadata": {"name": "n1"}})
    binding = _binding("idle", "n1")
    _released(core.create_namespaced_pod_binding("idle", "default", binding, _preload_content=False))
    _running(core, "idle")
    started = time.monotonic()
    no_address = (
        "Error from server (InternalError): Internal error occurred: "
        "no preferred addresses found; known addresses: []"
    )
    logs = server.kubectl("logs", "idle", check=False, timeout=20)
    assert logs.stderr.strip() == no_address
    bound = server.kubectl("exec", "idle", "--", "ls", check=False, timeout=20)
    assert no_address in bound.stderr
    # An address nothing listens on: a dial error, not a hang.
    status = {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 1}},
    }
    core.patch_node_status("n1", {"status": status})
    dialed = server.kubectl("logs", "idle", check=False, timeout=20)
    assert "error dialing backend: https://127.0.0.1:1/containerLogs/default/idle/" in dialed.stderr
    forward = server.kubectl("port-forward", "pod/idle", "0:80", check=False, timeout=20)
    assert forward.returncode == 1 and "error dialing backend" in forward.stderr
    proxied = server.kubectl("get", "--raw", "/api/v1/nodes/n1/proxy/metrics", check=False, timeout=20)
    assert (
        proxied.stderr.strip() == "Error from server (ServiceUnavailable): no node agent is serving node n1"
    )
    assert time.monotonic() - started < 15
    wrong = server.kubectl(
        "get", "--raw", "/api/v1/namespaces/default/pods/idle/log?container=nope", check=False
    )
    assert wrong.stderr.strip() == "Error from server (BadRequest): container nope is not valid for pod idle"


def test_force_delete_removes_a_bound_pod_at_once(server: RunningServer, core: Any) -> None:
    core.create_namespaced_pod("default", _pod("bound", node="n1"))
    server.kubectl("delete", "pod", "bound", "--wait=false")
    lingering = core.read_namespaced_pod("bound", "default")
    assert lingering.metadata.deletion_timestamp is not None
    assert lingering.metadata.deletion_grace_period_seconds == 30
    out = server.kubectl("delete", "pod", "bound", "--force", "--grace-period=0")
    assert 'pod "bound" force deleted' in out.stdout
    with pytest.raises(client.ApiException) as gone:
        core.read_namespaced_pod("bound", "default")
    assert gone.value.status == 404
