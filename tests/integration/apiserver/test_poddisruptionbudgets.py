"""policy/v1 PodDisruptionBudgets served like any other resource: discovery, kubectl's table, and evictions
that honour them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from tests.integration.apiserver.conftest import RunningServer

BUDGET = {
    "apiVersion": "policy/v1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "db", "namespace": "default"},
    "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
}


def _running_pod(core: Any, name: str) -> None:
    pod = {
        "metadata": {"name": name, "labels": {"app": "db"}},
        "spec": {"containers": [{"name": "db", "image": "postgres"}]},
    }
    core.create_namespaced_pod("default", pod)
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    core.patch_namespaced_pod_status(name, "default", {"status": status})


def _report(policy: Any, *, allowed: int) -> None:
    """What the disruption controller would write."""
    status = {
        "observedGeneration": 1,
        "disruptionsAllowed": allowed,
        "currentHealthy": 1 + allowed,
        "desiredHealthy": 1,
        "expectedPods": 1 + allowed,
    }
    policy.patch_namespaced_pod_disruption_budget_status("db", "default", {"status": status})


def _evict(core: Any, name: str) -> Any:
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    answer = core.create_namespaced_pod_eviction(name, "default", body, _preload_content=False)
    answer.read()  # an unread answer keeps its connection (and socket) out of the pool
    answer.release_conn()
    return answer


def test_budgets_are_discovered_created_and_printed(apiserver: RunningServer) -> None:
    resources = apiserver.kubectl("api-resources", "--api-group=policy", "--no-headers").stdout.split()
    assert resources[:5] == ["poddisruptionbudgets", "pdb", "policy/v1", "true", "PodDisruptionBudget"]
    apiserver.kubectl("create", "-f", "-", input=json.dumps(BUDGET))
    percent = {
        **BUDGET,
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"maxUnavailable": "25%"},
    }
    apiserver.kubectl("create", "-f", "-", input=json.dumps(percent))
    created = json.loads(apiserver.kubectl("get", "pdb", "db", "-o", "json").stdout)
    assert created["status"] == {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    }
    lines = apiserver.kubectl("get", "pdb").stdout.splitlines()
    assert lines[0].split() == [
        "NAME",
        "MIN",
        "AVAILABLE",
        "MAX",
        "UNAVAILABLE",
        "ALLOWED",
        "DISRUPTIONS",
        "AGE",
    ]
    assert lines[1].split()[:4] == ["db", "1", "N/A", "0"]
    assert lines[2].split()[:4] == ["web", "N/A", "25%", "0"]


def test_eviction_honours_a_served_budget(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    policy = client.PolicyV1Api(apiserver.python_client())
    for name in ("db-0", "db-1"):
        _running_pod(core, name)
    policy.create_namespaced_pod_disruption_budget("default", BUDGET)
    _report(policy, allowed=0)
    with pytest.raises(client.ApiException) as refused:
        _evict(core, "db-0")
    assert refused.value.status == 429
    assert json.loads(refused.value.body)["details"]["causes"][0]["message"] == (
        "The disruption budget db needs 1 healthy pods and has 1 currently"
    )
    core.read_namespaced_pod("db-0", "default")  # still there

    _report(policy, allowed=1)
    assert _evict(core, "db-0").status == 201
    status = policy.read_namespaced_pod_disruption_budget("db", "default").status
    assert status.disruptions_allowed == 0 and set(status.disrupted_pods) == {"db-0"}
    with pytest.raises(client.ApiException) as second:
        _evict(core, "db-1")
    assert second.value.status == 429
