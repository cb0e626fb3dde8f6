"""The scheduler's cache: every node with what is already counted on it, kept current by the informers.

Each NodeInfo holds what filters and scores read for every candidate (allocatable, the sum of requests, host
ports in use, labels, taints), computed once when the node or its pods change instead of once per pod and
node. A pod counts on its node from the moment the scheduler decides (an *assumed* pod), before the watch
confirms the binding, so a burst of decisions never overcommits a node; a failed bind forgets it again.
Pods that finished (Succeeded/Failed) no longer count, as upstream.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubelite.scheduler import resources
from kubelite.scheduler.resources import Amounts

HostPort = tuple[str, str, int]  # (protocol, hostIP, port)

TERMINAL_PHASES = ("Succeeded", "Failed")


def host_ports(pod: Mapping[str, Any]) -> list[HostPort]:
    ports = []
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("hostPort"):
                ports.append(
                    (port.get("protocol", "TCP"), port.get("hostIP") or "0.0.0.0", int(port["hostPort"]))
                )
    return ports


def owner_uid(pod: Mapping[str, Any]) -> str:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return str(ref.get("uid", ""))
    return ""


def pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


@dataclass(slots=True)
class PodEntry:
    """A pod counted on a node, with what the filters need from it computed once."""

    pod: Mapping[str, Any]
    requests: Amounts
    scoring: tuple[int, int]
    ports: list[HostPort]
    owner: str  # uid of the controlling owner ("" for none)

    @classmethod
    def of(cls, pod: Mapping[str, Any]) -> PodEntry:
        requests = resources.pod_requests(pod)
        return cls(pod, requests, resources.scoring_requests(pod, requests), host_ports(pod), owner_uid(pod))

    @property
    def namespace(self) -> str:
        return str((self.pod.get("metadata") or {}).get("namespace", ""))

    @property
    def labels(self) -> Mapping[str, str]:
        return (self.pod.get("metadata") or {}).get("labels") or {}


def _ready(node: Mapping[str, Any]) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


@dataclass(slots=True)
class NodeInfo:
    name: str
    node: Mapping[str, Any] | None = None  # None while only pods name this node
    labels: Mapping[str, str] = field(default_factory=dict)
    allocatable: Amounts = field(default_factory=dict)
    taints: list[Mapping[str, Any]] = field(default_factory=list)
    ready: bool = False
    unschedulable: bool = False
    # Ready, schedulable and without NoSchedule/NoExecute taints: any pod passes the node-condition checks.
    clean: bool = False
    requested: Amounts = field(default_factory=dict)
    # The hot resources again as plain attributes: the filters and scores read them for every candidate.
    allocatable_cpu: int = 0
    allocatable_memory: int = 0
    allocatable_pods: int = 0
    requested_cpu: int = 0
    requested_memory: int = 0
    scoring_cpu: int = 0
    scoring_memory: int = 0
    ports: dict[HostPort, int] = field(default_factory=dict)
    pods: dict[str, PodEntry] = field(default_factory=dict)

    def set_node(self, node: Mapping[str, Any]) -> None:
        self.node = node
        self.labels = (node.get("metadata") or {}).get("labels") or {}
        status = node.get("status") or {}
        self.allocatable = resources.amounts(status.get("allocatable") or status.get("capacity"))
        spec = node.get("spec") or {}
        self.taints = list(spec.get("taints") or ())
        self.unschedulable = bool(spec.get("unschedulable"))
        self.ready = _ready(node)
        hard_taints = any(t.get("effect") in ("NoSchedule", "NoExecute") for t in self.taints)
        self.clean = self.ready and not self.unschedulable and not hard_taints
        self.allocatable_cpu = self.allocatable.get(resources.CPU, 0)
        self.allocatable_memory = self.allocatable.get(resources.MEMORY, 0)
        self.allocatable_pods = self.allocatable.get(resources.PODS, 0)

    def add(self, key: str, entry: PodEntry) -> None:
        self.pods[key] = entry
        self._count(entry, 1)

    def remove(self, key: str) -> None:
        entry = self.pods.pop(key, None)
        if entry is not None:
            self._count(entry, -1)

    def _count(self, entry: PodEntry, sign: int) -> None:
        for name, value in entry.requests.items():
            self.requested[name] = self.requested.get(name, 0) + sign * value
        self.requested_cpu = self.requested.get(resources.CPU, 0)
        self.requested_memory = self.requested.get(resources.MEMORY, 0)
        self.scoring_cpu += sign * entry.scoring[0]
        self.scoring_memory += sign * entry.scoring[1]
        for port in entry.ports:
            left = self.ports.get(port, 0) + sign
            if left > 0:
                self.ports[port] = left
            else:
                self.ports.pop(port, None)


class ClusterState:
    """Nodes by name (in a stable order for sampling) and where each counted pod is."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self.order: list[NodeInfo] = []  # the nodes that exist, in a stable order for round-robin sampling
        self._positions: dict[str, int] = {}
        self.pod_nodes: dict[str, str] = {}
        self.assumed: set[str] = set()
        # Pods whose required anti-affinity may forbid nodes to newcomers (checked for every pod).
        self.anti_affinity_pods: dict[str, PodEntry] = {}
        # owner uid -> node -> how many of its pods are there (for spreading an owner's pods).
        self.owner_counts: dict[str, dict[str, int]] = {}

    def _info(self, name: str) -> NodeInfo:
        info = self.nodes.get(name)
        if info is None:
            info = self.nodes[name] = NodeInfo(name)
        return info

    def set_node(self, node: Mapping[str, Any]) -> None:
        name = str(node["metadata"]["name"])
        info = self._info(name)
        info.set_node(node)
        if name not in self._positions:
            self._positions[name] = len(self.order)
            self.order.append(info)

    def remove_node(self, name: str) -> None:
        info = self.nodes.get(name)
        if info is None:
            return
        info.node = None
        position = self._positions.pop(name, None)
        if position is not None:  # swap-remove keeps removal O(1)
            last = self.order.pop()
            if last.name != name:
                self.order[position] = last
                self._positions[last.name] = position
        if not info.pods:
            del self.nodes[name]

    def existing(self) -> Iterator[NodeInfo]:
        return iter(self.order)

    def add_pod(self, pod: Mapping[str, Any], node_name: str, *, assumed: bool = False) -> None:
        """Count `pod` on `node_name` (replacing what was counted for it before)."""
        key = pod_key(pod)
        self.remove_pod(key)
        entry = PodEntry.of(pod)
        self._info(node_name).add(key, entry)
        self.pod_nodes[key] = node_name
        if entry.owner:
            counts = self.owner_counts.setdefault(entry.owner, {})
            counts[node_name] = counts.get(node_name, 0) + 1
        if assumed:
            self.assumed.add(key)
        affinity = (pod.get("spec") or {}).get("affinity") or {}
        if (affinity.get("podAntiAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution"):
            self.anti_affinity_pods[key] = entry

    def remove_pod(self, key: str) -> None:
        node_name = self.pod_nodes.pop(key, None)
        self.assumed.discard(key)
        self.anti_affinity_pods.pop(key, None)
        if node_name is None:
            return
        info = self.nodes.get(node_name)
        if info is None:
            return
        entry = info.pods.get(key)
        if entry is not None and entry.owner:
            self._uncount_owner(entry.owner, node_name)
        info.remove(key)
        if info.node is None and not info.pods:
            del self.nodes[node_name]

    def _uncount_owner(self, owner: str, node_name: str) -> None:
        counts = self.owner_counts.get(owner, {})
        left = counts.get(node_name, 0) - 1
        if left > 0:
            counts[node_name] = left
        else:
            counts.pop(node_name, None)
            if not counts:
                self.owner_counts.pop(owner, None)

    def observe_pod(self, pod: Mapping[str, Any]) -> None:
        """What the watch says about a pod: count it where it is bound, drop it once finished or gone."""
        key = pod_key(pod)
        node_name = (pod.get("spec") or {}).get("nodeName")
        phase = (pod.get("status") or {}).get("phase")
        if not node_name or phase in TERMINAL_PHASES:
            if key not in self.assumed or phase in TERMINAL_PHASES:
                self.remove_pod(key)
            return
        if self.pod_nodes.get(key) == node_name and key not in self.assumed:
            # A status write of a pod already counted: requests and ports cannot change, labels can.
            self.nodes[node_name].pods[key].pod = pod
            return
        self.add_pod(pod, str(node_name))

    def all_pods(self) -> Iterator[tuple[PodEntry, NodeInfo]]:
        for info in self.nodes.values():
            for entry in info.pods.values():
                yield entry, info
