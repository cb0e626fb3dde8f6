"""ResourceQuota admission against the real API server: limits, constraints, scopes and racing creates.

No quota controller runs here: each test fills a quota's status the way the controller would (hard = spec,
used = 0), which is what admission enforces against.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubelite.client import errors, kubeconfig, paths
from kubelite.client.rest import RestClient
from tests.integration.apiserver.conftest import RunningServer

PODS = paths.resource("", "v1", "pods")


def _namespace(core: Any) -> str:
    name = f"q-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    return name


def _quota(core: Any, namespace: str, name: str, hard: dict[str, str], **spec: Any) -> None:
    core.create_namespaced_resource_quota(
        namespace, {"metadata": {"name": name}, "spec": {"hard": hard, **spec}}
    )
    current = core.read_namespaced_resource_quota(name, namespace)
    current.status = {"hard": hard, "used": dict.fromkeys(hard, "0")}
    core.replace_namespaced_resource_quota_status(name, namespace, current)


def _used(core: Any, namespace: str, name: str) -> dict[str, str]:
    return dict(core.read_namespaced_resource_quota(name, namespace).status.used)


def _pod(name: str, **resources: dict[str, str]) -> dict[str, Any]:
    container = {"name": "app", "image": "busybox", "resources": resources}
    return {"metadata": {"name": name}, "spec": {"containers": [container]}}


def _forbidden(create: Any) -> str:
    with pytest.raises(ApiException) as raised:
        create()
    assert raised.value.status == 403, raised.value.body
    message: str = json.loads(raised.value.body)["message"]
    return message


def test_pod_count_is_enforced_with_upstream_message(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    ns = _namespace(core)
    _quota(core, ns, "q", {"pods": "2", "count/pods": "5"})
    core.create_namespaced_pod(ns, _pod("p1"))
    core.create_namespaced_pod(ns, _pod("p2"))
    assert _used(core, ns, "q") == {"pods": "2", "count/pods": "2"}
    message = _forbidden(lambda: core.create_namespaced_pod(ns, _pod("p3")))
    assert (
        message
        == 'pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2'
    )
    # Another namespace is not limited by this one's quota.
    other = _namespace(core)
    core.create_namespaced_pod(other, _pod("p3"))
    # A dry run is checked but reserves nothing.
    _quota(core, other, "q", {"pods": "2"})
    core.create_namespaced_pod(other, _pod("p4"), dry_run="All")
    assert _used(core, other, "q") == {"pods": "0"}


def test_cpu_and_memory_quotas_require_them(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    ns = _namespace(core)
    _quota(core, ns, "compute", {"requests.cpu": "1", "limits.memory": "1Gi"})
    message = _forbidden(lambda: core.create_namespaced_pod(ns, _pod("bare")))
    assert message == (
        'pods "bare" is forbidden: failed quota: compute: '
        "must specify limits.memory for: app; requests.cpu for: app"
    )
    sized = _pod("sized", requests={"cpu": "600m"}, limits={"memory": "256Mi"})
    core.create_namespaced_pod(ns, sized)
    assert _used(core, ns, "compute") == {"limits.memory": "256Mi", "requests.cpu": "600m"}
    message = _forbidden(lambda: core.create_namespaced_pod(ns, {**sized, "metadata": {"name": "more"}}))
    assert message == (
        'pods "more" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, '
        "used: requests.cpu=600m, limited: requests.cpu=1"
    )
    # An invalid pod is refused as invalid and takes nothing.
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_pod(ns, _pod("Bad_Name", requests={"cpu": "1m"}, limits={"memory": "1Mi"}))
    assert raised.value.status == 422
    assert _used(core, ns, "compute") == {"limits.memory": "256Mi", "requests.cpu": "600m"}


def test_best_effort_scopes(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    ns = _namespace(core)
    _quota(core, ns, "be", {"pods": "1"}, scopes=["BestEffort"])
    _quota(core, ns, "nbe", {"pods": "1"}, scopes=["NotBestEffort"])
    core.create_namespaced_pod(ns, _pod("be1"))
    message = _forbidden(lambda: core.create_namespaced_pod(ns, _pod("be2")))
    assert "exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1" in message
    burstable = {"requests": {"cpu": "10m"}}
    core.create_namespaced_pod(ns, _pod("nbe1", **burstable))
    message = _forbidden(lambda: core.create_namespaced_pod(ns, _pod("nbe2", **burstable)))
    assert "exceeded quota: nbe," in message
    assert _used(core, ns, "be") == {"pods": "1"} and _used(core, ns, "nbe") == {"pods": "1"}


def test_racing_creates_never_exceed_the_quota(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    ns = _namespace(core)
    _quota(core, ns, "q", {"pods": "5"})

    async def race() -> list[BaseException | dict[str, Any]]:
        async with RestClient(kubeconfig.load(apiserver.kubeconfig), max_connections=20) as c:
            creates = [c.create(PODS, _pod(f"p{i}"), namespace=ns) for i in range(20)]
            return await asyncio.gather(*creates, return_exceptions=True)

    results = asyncio.run(race())
    refused = [r for r in results if isinstance(r, errors.ClientError)]
    assert len(results) - len(refused) == 5
    assert all(isinstance(r, errors.Forbidden) and "exceeded quota: q" in str(r) for r in refused)
    assert len(core.list_namespaced_pod(ns).items) == 5
    assert _used(core, ns, "q") == {"pods": "5"}


def test_services_node_ports_and_object_counts(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    ns = _namespace(core)
    _quota(core, ns, "svc", {"services.nodeports": "2", "count/configmaps": "1"})

    def service(name: str, kind: str, ports: int) -> dict[str, Any]:
        spec = {
            "type": kind,
            "selector": {"app": name},
            "ports": [{"name": f"p{i}", "port": 80 + i} for i in range(ports)],
        }
        return {"metadata": {"name": name}, "spec": spec}

    core.create_namespaced_service(ns, service("two", "NodePort", 2))
    message = _forbidden(lambda: core.create_namespaced_service(ns, service("one", "NodePort", 1)))
    assert message == (
        'services "one" is forbidden: exceeded quota: svc, requested: services.nodeports=1, '
        "used: services.nodeports=2, limited: services.nodeports=2"
    )
    core.create_namespaced_service(ns, service("plain", "ClusterIP", 3))
    core.create_namespaced_config_map(ns, {"metadata": {"name": "c1"}})
    message = _forbidden(lambda: core.create_namespaced_config_map(ns, {"metadata": {"name": "c2"}}))
    assert message.endswith(
        "requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1"
    )


def test_kubectl_describe_quota(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    ns = _namespace(core)
    _quota(core, ns, "q", {"pods": "3", "requests.memory": "1Gi"})
    core.create_namespaced_pod(ns, _pod("p", requests={"memory": "100Mi"}))
    out = apiserver.kubectl("describe", "quota", "q", "-n", ns).stdout
    assert out.split("\n") == [
        "Name:            q",
        f"Namespace:       {ns}",
        "Resource         Used   Hard",
        "--------         ----   ----",
        "pods             1      3",
        "requests.memory  100Mi  1Gi",
        "",
    ]


def test_limit_range_defaults_satisfy_a_compute_quota(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    ns = _namespace(core)
    limits = {"type": "Container", "default": {"cpu": "200m"}, "defaultRequest": {"cpu": "100m"}}
    core.create_namespaced_limit_range(ns, {"metadata": {"name": "defaults"}, "spec": {"limits": [limits]}})
    _quota(core, ns, "compute", {"requests.cpu": "1", "limits.cpu": "1"})
    core.create_namespaced_pod(ns, _pod("defaulted"))
    assert _used(core, ns, "compute") == {"limits.cpu": "200m", "requests.cpu": "100m"}
