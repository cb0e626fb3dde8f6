"""The housekeeping controllers against the real API server, driven with the real kubectl: cascading
deletion, namespace deletion, default service accounts, node IPAM, node death and eviction, endpoints."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.integration.apiserver.conftest import RunningServer
from tests.support.running_controllers import RunningControllers


def eventually(check: Callable[[], Any], *, within: float = 20.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def get(server: RunningServer, *args: str) -> dict[str, Any] | None:
    proc = server.kubectl("get", *args, "-o", "json", check=False)
    if proc.returncode != 0:
        assert "NotFound" in proc.stderr, proc.stderr
        return None
    found: dict[str, Any] = json.loads(proc.stdout)
    return found


def create(server: RunningServer, obj: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = json.loads(
        server.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(obj)).stdout
    )
    return created


def configmap(name: str, owner: dict[str, Any] | None = None, *, block: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "blockOwnerDeletion": block,
            }
        ]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def test_cascading_deletion_background_foreground_and_orphan(apiserver: RunningServer) -> None:
    with RunningControllers(apiserver.kubeconfig, names={"garbagecollector"}):
        for cascade in ("background", "foreground", "orphan"):
            parent = create(apiserver, configmap(f"{cascade}-parent"))
            child = create(apiserver, configmap(f"{cascade}-child", parent, block=True))
            grandchild = create(apiserver, configmap(f"{cascade}-grandchild", child, block=True))
            apiserver.kubectl(
                "delete", "configmap", f"{cascade}-parent", f"--cascade={cascade}", "--timeout=30s"
            )
            assert get(apiserver, "configmap", f"{cascade}-parent") is None  # kubectl waited for it to go
            if cascade == "orphan":
                for name in (child, grandchild):
                    kept = get(apiserver, "configmap", name["metadata"]["name"])
                    assert kept is not None
                orphan = get(apiserver, "configmap", f"{cascade}-child")
                assert orphan is not None and not orphan["metadata"].get("ownerReferences")
                continue
            if cascade == "foreground":  # the owner went only after its blocking dependents
                assert get(apiserver, "configmap", f"{cascade}-child") is None
            for name in (f"{cascade}-child", f"{cascade}-grandchild"):
                eventually(
                    lambda n=name: get(apiserver, "configmap", n) is None, what=f"{name} to be collected"
                )


def test_deleting_a_namespace_empties_and_removes_it(apiserver: RunningServer) -> None:
    with RunningControllers(apiserver.kubeconfig, names={"namespace", "serviceaccount"}):
        apiserver.kubectl("create", "namespace", "doomed")
        apiserver.kubectl("create", "configmap", "settings", "-n", "doomed", "--from-literal=a=b")
        eventually(
            lambda: get(apiserver, "serviceaccount", "default", "-n", "doomed"), what="the default account"
        )

        apiserver.kubectl("delete", "serviceaccount", "default", "-n", "doomed")
        eventually(
            lambda: get(apiserver, "serviceaccount", "default", "-n", "doomed"), what="it to come back"
        )

        apiserver.kubectl("delete", "namespace", "doomed", "--timeout=30s", timeout=60)
        assert get(apiserver, "namespace", "doomed") is None


def test_nodes_get_distinct_pod_ranges_and_freed_ones_are_reused(apiserver: RunningServer) -> None:
    def pod_cidr(name: str) -> str | None:
        node = get(apiserver, "node", name)
        return None if node is None else node.get("spec", {}).get("podCIDR")

    with RunningControllers(apiserver.kubeconfig, names={"nodeipam"}, cluster_cidr="10.99.0.0/16"):
        for name in ("a", "b"):
            create(apiserver, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
        first = eventually(lambda: pod_cidr("a"), what="a's range")
        second = eventually(lambda: pod_cidr("b"), what="b's range")
        assert {first, second} == {"10.99.0.0/24", "10.99.1.0/24"}
        assert get(apiserver, "node", "a")["spec"]["podCIDRs"] == [first]  # type: ignore[index]

        apiserver.kubectl("delete", "node", "a")
        time.sleep(1)  # let the deletion reach the controller's cache
        create(apiserver, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "c"}})
        assert eventually(lambda: pod_cidr("c"), what="c's range") == first


def ready_condition(status: str) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "type": "Ready",
        "status": status,
        "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }


def post_ready(server: RunningServer, node: str) -> None:
    """What a kubelet does: renew its lease and post Ready=True."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": node, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": now},
    }
    server.kubectl("apply", "-f", "-", input=json.dumps(lease))
    status = json.dumps({"status": {"conditions": [ready_condition("True")]}})
    server.kubectl("patch", "node", node, "--subresource=status", "--type=merge", "-p", status)


def test_a_silent_node_is_tainted_its_pods_evicted_and_it_recovers(apiserver: RunningServer) -> None:
    create(apiserver, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    post_ready(apiserver, "n1")
    unreachable_key = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}
    # Admission gives every pod 300 s of tolerance (DefaultTolerationSeconds); "brief" asks for 1 s, the
    # way users ask for fast failover, and "tolerant" stays for ever.
    brief = [{**unreachable_key, "tolerationSeconds": 1}]
    for name, tolerations in (("brief", brief), ("tolerant", [unreachable_key])):
        create(
            apiserver,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {
                    "nodeName": "n1",
                    "tolerations": tolerations,
                    "containers": [{"name": "c", "image": "x"}],
                },
            },
        )

    def taints() -> set[tuple[str, str]]:
        node = get(apiserver, "node", "n1") or {}
        return {(t["key"], t["effect"]) for t in node.get("spec", {}).get("taints") or ()}

    def evicted(name: str) -> bool:
        pod = get(apiserver, "pod", name)
        return pod is None or bool(pod["metadata"].get("deletionTimestamp"))

    config = {"node_monitor_grace_period": 2.0, "pod_eviction_timeout": 1.0}
    with RunningControllers(apiserver.kubeconfig, names={"nodelifecycle"}, **config):
        unreachable = {
            ("node.kubernetes.io/unreachable", "NoSchedule"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
        }
        eventually(lambda: taints() == unreachable, what="the unreachable taints")
        node = get(apiserver, "node", "n1")
        assert node is not None
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == (
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
        )
        eventually(lambda: evicted("brief"), what="the briefly tolerating pod's eviction")
        assert not evicted("tolerant")

        post_ready(apiserver, "n1")
        eventually(lambda: taints() == set(), what="the taints to go")


def test_endpoints_and_slices_follow_ready_and_not_ready_pods(apiserver: RunningServer) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    with RunningControllers(apiserver.kubeconfig, names={"endpoint", "endpointslice"}):
        create(apiserver, service)
        for name, ip, ready in (("a", "10.42.0.2", "True"), ("b", "10.42.0.3", "False")):
            container = {"name": "c", "image": "x", "ports": [{"name": "http", "containerPort": 8080}]}
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
                "spec": {"nodeName": "n1", "containers": [container]},
            }
            create(apiserver, pod)
            status = {
                "status": {
                    "podIP": ip,
                    "podIPs": [{"ip": ip}],
                    "conditions": [{"type": "Ready", "status": ready}],
                }
            }
            apiserver.kubectl(
                "patch", "pod", name, "--subresource=status", "--type=merge", "-p", json.dumps(status)
            )

        def subsets() -> list[dict[str, Any]]:
            endpoints = get(apiserver, "endpoints", "web") or {}
            found = endpoints.get("subsets") or []
            return found if found and found[0].get("addresses") and found[0].get("notReadyAddresses") else []

        [subset] = eventually(subsets, what="the Endpoints")
        assert [a["ip"] for a in subset["addresses"]] == ["10.42.0.2"]
        assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.42.0.3"]
        assert subset["addresses"][0]["targetRef"]["name"] == "a"
        assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]

        def slice_endpoints() -> dict[str, Any]:
            found = get(apiserver, "endpointslices", "-l", "kubernetes.io/service-name=web") or {}
            items = found.get("items") or []
            return {
                e["addresses"][0]: e["conditions"]["ready"] for s in items for e in s.get("endpoints") or []
            }

        assert eventually(lambda: len(slice_endpoints()) == 2, what="the slice") and slice_endpoints() == {
            "10.42.0.2": True,
            "10.42.0.3": False,
        }

        def versions() -> set[str]:
            listed = get(apiserver, "endpoints,endpointslices") or {}
            return {item["metadata"]["resourceVersion"] for item in listed.get("items") or []}

        settled = versions()
        time.sleep(1)  # settled controllers write nothing more
        assert versions() == settled

        apiserver.kubectl("delete", "service", "web")
        eventually(lambda: get(apiserver, "endpoints", "web") is None, what="the Endpoints to go")
        eventually(lambda: not slice_endpoints(), what="the slices to go")
