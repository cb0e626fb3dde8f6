"""Nodes and leases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.apiserver.tables.printing import cells, headers, meta

NODE_INFO = {
    "kubeletVersion": "v1.32.4+kubelite",
    "osImage": "Ubuntu 24.04.1 LTS",
    "kernelVersion": "6.8.0-45-generic",
    "containerRuntimeVersion": "containerd://1.7.22",
}


def _node(
    conditions: list[dict[str, Any]], *, labels: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {**meta("node-1", labels=labels or {}), "namespace": ""},
        "spec": spec,
        "status": {
            "conditions": conditions,
            "addresses": [
                {"type": "Hostname", "address": "node-1"},
                {"type": "InternalIP", "address": "192.168.5.10"},
                {"type": "InternalIP", "address": "192.168.5.11"},
            ],
            "nodeInfo": NODE_INFO,
        },
    }


READY = {"type": "Ready", "status": "True"}
MEMORY_OK = {"type": "MemoryPressure", "status": "False"}


def test_node_headers() -> None:
    assert headers("", "nodes") == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert headers("", "nodes", wide=True)[5:] == [
        "INTERNAL-IP",
        "EXTERNAL-IP",
        "OS-IMAGE",
        "KERNEL-VERSION",
        "CONTAINER-RUNTIME",
    ]


def test_ready_control_plane_node() -> None:
    labels = {
        "node-role.kubernetes.io/control-plane": "true",
        "node-role.kubernetes.io/master": "true",
        "node-role.kubernetes.io/": "",
        "kubernetes.io/hostname": "node-1",
    }
    assert cells("", "nodes", _node([MEMORY_OK, READY], labels=labels)) == [
        "node-1",
        "Ready",
        "control-plane,master",
        "5m",
        "v1.32.4+kubelite",
        "192.168.5.10",
        "<none>",
        "Ubuntu 24.04.1 LTS",
        "6.8.0-45-generic",
        "containerd://1.7.22",
    ]


@pytest.mark.parametrize(
    ("conditions", "unschedulable", "status"),
    [
        ([{"type": "Ready", "status": "False"}], False, "NotReady"),
        ([{"type": "Ready", "status": "Unknown"}], True, "NotReady,SchedulingDisabled"),
        ([READY], True, "Ready,SchedulingDisabled"),
        ([MEMORY_OK], False, "Unknown"),
        ([], True, "Unknown,SchedulingDisabled"),
    ],
)
def test_node_status(conditions: list[dict[str, Any]], unschedulable: bool, status: str) -> None:
    assert cells("", "nodes", _node(conditions, unschedulable=unschedulable))[1] == status


def test_legacy_role_label() -> None:
    labels = {"kubernetes.io/role": "worker", "node-role.kubernetes.io/gpu": ""}
    assert cells("", "nodes", _node([READY], labels=labels))[2] == "gpu,worker"
    assert cells("", "nodes", _node([READY], labels={"kubernetes.io/role": ""}))[2] == "<none>"


def test_node_that_has_not_reported() -> None:
    bare = {"metadata": meta("new", namespace="")}
    assert cells("", "nodes", bare) == [
        "new",
        "Unknown",
        "<none>",
        "5m",
        "",
        "<none>",
        "<none>",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    ]


def test_lease() -> None:
    assert headers("coordination.k8s.io", "leases") == ["NAME", "HOLDER", "AGE"]
    lease = {"metadata": meta("node-1"), "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40}}
    assert cells("coordination.k8s.io", "leases", lease) == ["node-1", "node-1", "5m"]
    assert cells("coordination.k8s.io", "leases", {"metadata": meta("free"), "spec": {}})[1] == ""
