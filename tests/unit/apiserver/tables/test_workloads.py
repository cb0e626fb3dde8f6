"""Deployments, replicasets, replicationcontrollers, daemonsets, statefulsets, controllerrevisions."""

from __future__ import annotations

from typing import Any

from tests.unit.apiserver.tables.printing import cells, headers, meta

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [{"name": "nginx", "image": "nginx:1.27"}, {"name": "log", "image": "busybox:1.36"}],
        "nodeSelector": {"kubernetes.io/os": "linux", "disk": "ssd"},
    },
}
SELECTOR = {
    "matchLabels": {"app": "web"},
    "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["front", "back"]},
        {"key": "canary", "operator": "DoesNotExist"},
        {"key": "zone", "operator": "Exists"},
    ],
}


def _workload(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": meta("web"), "spec": {"template": TEMPLATE, **spec}}
    if status is not None:
        obj["status"] = status
    return obj


def test_deployment_headers() -> None:
    assert headers("apps", "deployments") == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert headers("apps", "deployments", wide=True)[5:] == ["CONTAINERS", "IMAGES", "SELECTOR"]


def test_deployment_with_status() -> None:
    status = {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    assert cells("apps", "deployments", _workload(status, replicas=3, selector=SELECTOR)) == [
        "web",
        "2/3",
        3,
        2,
        "5m",
        "nginx,log",
        "nginx:1.27,busybox:1.36",
        "app=web,!canary,tier in (back,front),zone",
    ]


def test_deployment_before_any_status() -> None:
    row = cells("apps", "deployments", _workload(replicas=3, selector={"matchLabels": {"app": "web"}}))
    assert row[:5] == ["web", "0/3", 0, 0, "5m"]
    assert row[7] == "app=web"
    # spec.replicas defaults to 1; an absent or empty selector prints as an empty cell.
    assert cells("apps", "deployments", _workload({}))[1] == "0/1"
    assert cells("apps", "deployments", _workload({}))[7] == ""


def test_deployment_with_invalid_selector() -> None:
    bad = {"matchExpressions": [{"key": "a", "operator": "Near"}]}
    assert cells("apps", "deployments", _workload(selector=bad))[7] == "<invalid>"


def test_replica_set() -> None:
    assert headers("apps", "replicasets") == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    status = {"replicas": 2, "readyReplicas": 1}
    row = cells(
        "apps", "replicasets", _workload(status, replicas=2, selector={"matchLabels": {"app": "web"}})
    )
    assert row == ["web", 2, 2, 1, "5m", "nginx,log", "nginx:1.27,busybox:1.36", "app=web"]
    assert cells("apps", "replicasets", _workload(replicas=0))[1:4] == [0, 0, 0]
    assert cells("apps", "replicasets", _workload())[7] == "<none>"


def test_replication_controller_selector_is_a_label_map() -> None:
    assert headers("", "replicationcontrollers", wide=True) == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    rc = _workload({"replicas": 1}, replicas=2, selector={"tier": "front", "app": "web"})
    assert cells("", "replicationcontrollers", rc) == [
        "web",
        2,
        1,
        0,
        "5m",
        "nginx,log",
        "nginx:1.27,busybox:1.36",
        "app=web,tier=front",
    ]
    # A controller without a template has no containers.
    bare = {"metadata": meta("bare"), "spec": {"replicas": 1}}
    assert cells("", "replicationcontrollers", bare)[5:] == ["", "", "<none>"]


def test_daemon_set() -> None:
    assert headers("apps", "daemonsets") == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODE SELECTOR",
        "AGE",
    ]
    status = {
        "desiredNumberScheduled": 3,
        "currentNumberScheduled": 3,
        "numberReady": 2,
        "updatedNumberScheduled": 3,
        "numberAvailable": 2,
    }
    row = cells("apps", "daemonsets", _workload(status, selector={"matchLabels": {"app": "web"}}))
    assert row == [
        "web",
        3,
        3,
        2,
        3,
        2,
        "disk=ssd,kubernetes.io/os=linux",
        "5m",
        "nginx,log",
        "nginx:1.27,busybox:1.36",
        "app=web",
    ]
    plain = {"metadata": meta("ds"), "spec": {"template": {"spec": {"containers": []}}}}
    assert cells("apps", "daemonsets", plain)[1:8] == [0, 0, 0, 0, 0, "<none>", "5m"]


def test_stateful_set() -> None:
    assert headers("apps", "statefulsets", wide=True) == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]
    assert cells("apps", "statefulsets", _workload({"readyReplicas": 2}, replicas=3)) == [
        "web",
        "2/3",
        "5m",
        "nginx,log",
        "nginx:1.27,busybox:1.36",
    ]
    assert cells("apps", "statefulsets", _workload(replicas=0))[1] == "0/0"


def test_controller_revision() -> None:
    assert headers("apps", "controllerrevisions") == ["NAME", "CONTROLLER", "REVISION", "AGE"]
    owners = [
        {"apiVersion": "v1", "kind": "Pod", "name": "other", "controller": False},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "fluentd", "controller": True},
    ]
    revision = {"metadata": meta("fluentd-5d8f", ownerReferences=owners), "revision": 4}
    assert cells("apps", "controllerrevisions", revision) == [
        "fluentd-5d8f",
        "daemonset.apps/fluentd",
        4,
        "5m",
    ]
    core_owner = [{"apiVersion": "v1", "kind": "Pod", "name": "p", "controller": True}]
    assert cells("apps", "controllerrevisions", {"metadata": meta("r", ownerReferences=core_owner)})[1:3] == [
        "pod/p",
        0,
    ]
    assert cells("apps", "controllerrevisions", {"metadata": meta("r")})[1] == "<none>"
