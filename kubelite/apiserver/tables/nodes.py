"""Table columns of nodes (NAME STATUS ROLES AGE VERSION; wide INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION
CONTAINER-RUNTIME) and of leases, which carry the nodes' heartbeats and leader elections (NAME HOLDER AGE).

A node's STATUS is its Ready condition (`Ready`, `NotReady`, or `Unknown` without one), plus
`SchedulingDisabled` when cordoned. ROLES come from `node-role.kubernetes.io/<role>` labels and the older
`kubernetes.io/role=<role>` label.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import AGE, NAME, Column, Row, age, name_of, register
from kubelite.apiserver.tables.formats import NONE

_ROLE_PREFIX = "node-role.kubernetes.io/"
_ROLE_LABEL = "kubernetes.io/role"


def _node_status(node: dict[str, Any]) -> str:
    ready = None  # the last Ready condition wins, as in upstream's condition map
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            ready = condition
    states = ["Unknown"] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    if (node.get("spec") or {}).get("unschedulable"):
        states.append("SchedulingDisabled")
    return ",".join(states)


def _roles(labels: dict[str, str]) -> str:
    roles = {key.removeprefix(_ROLE_PREFIX) for key in labels if key.startswith(_ROLE_PREFIX)} - {""}
    if labels.get(_ROLE_LABEL):
        roles.add(labels[_ROLE_LABEL])
    return ",".join(sorted(roles)) or NONE


def _address(status: dict[str, Any], kind: str) -> str:
    for address in status.get("addresses") or []:
        if address.get("type") == kind:
            return str(address.get("address", ""))
    return NONE


def _node(node: dict[str, Any], now: datetime.datetime) -> Row:
    status = node.get("status") or {}
    info = status.get("nodeInfo") or {}
    return [
        name_of(node),
        _node_status(node),
        _roles((node.get("metadata") or {}).get("labels") or {}),
        age(node, now),
        info.get("kubeletVersion", ""),
        _address(status, "InternalIP"),
        _address(status, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _lease(lease: dict[str, Any], now: datetime.datetime) -> Row:
    return [name_of(lease), (lease.get("spec") or {}).get("holderIdentity") or "", age(lease, now)]


register(
    "",
    "nodes",
    (
        NAME,
        Column("Status", description="The status of the node"),
        Column("Roles", description="The roles of the node"),
        AGE,
        Column("Version", description="Kubelet Version reported by the node."),
        Column("Internal-IP", priority=1, description="The node's first InternalIP address."),
        Column("External-IP", priority=1, description="The node's first ExternalIP address."),
        Column("OS-Image", priority=1, description="OS Image reported by the node."),
        Column("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
        Column("Container-Runtime", priority=1, description="ContainerRuntime Version reported by the node."),
    ),
    _node,
)
register(
    "coordination.k8s.io",
    "leases",
    (NAME, Column("Holder", description="The identity of the holder of the current lease."), AGE),
    _lease,
)
