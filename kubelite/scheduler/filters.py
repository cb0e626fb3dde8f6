"""Filters: can this node run this pod, and if not, why (in upstream's words, for the failure message).

`prepare(pod, ...)` looks at the pod once and returns only the checks that apply to it, each a closure over
what it precomputed, so the per-node work is a few dict lookups. A node is rejected by the first check that
fails, in upstream's plugin order. Each rejection says whether preemption could ever help (resources, ports)
or not (taints, affinity): the message's preemption part counts them differently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.api.nodeaffinity import selector_matches, tolerated
from kubelite.scheduler.nodeinfo import HostPort, NodeInfo, host_ports
from kubelite.scheduler.resources import CPU, MEMORY, PODS, Amounts

NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}

UNSCHEDULABLE = "node(s) were unschedulable"
AFFINITY_MISMATCH = "node(s) didn't match Pod's node affinity/selector"
PORTS_IN_USE = "node(s) didn't have free ports for the requested pod ports"
VOLUME_AFFINITY_CONFLICT = "node(s) had volume node affinity conflict"


@dataclass(frozen=True, slots=True)
class Rejection:
    reasons: tuple[str, ...]
    resolvable: bool = False  # could evicting pods (preemption) make the node fit?


Filter = Callable[[NodeInfo], Rejection | None]


def untolerated_taint(info: NodeInfo, tolerations: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first NoSchedule/NoExecute taint the pod does not tolerate (a not-ready node counts as tainted
    not-ready, as the node lifecycle controller would taint it)."""
    taints: list[Mapping[str, Any]] = list(info.taints)
    if not info.ready and not any(t.get("key") == NOT_READY_TAINT["key"] for t in taints):
        taints.append(NOT_READY_TAINT)
    for taint in taints:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(tolerations, taint):
            return taint
    return None


def taint_reason(taint: Mapping[str, Any]) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"


def required_node_terms(pod: Mapping[str, Any]) -> Sequence[Mapping[str, Any]] | None:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    return None if required is None else (required.get("nodeSelectorTerms") or ())


def node_matches_pod(pod: Mapping[str, Any], info: NodeInfo) -> bool:
    """nodeSelector and required node affinity (also used by topology spreading to pick eligible nodes)."""
    selector = (pod.get("spec") or {}).get("nodeSelector") or {}
    labels = info.labels
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    terms = required_node_terms(pod)
    return terms is None or selector_matches(terms, labels, info.name)


def _node_conditions(tolerations: Sequence[Mapping[str, Any]]) -> Filter:
    """Cordoned (spec.unschedulable) first, then taints, as upstream's NodeUnschedulable and
    TaintToleration plugins; a clean node passes at once."""
    tolerates_cordon = tolerated(tolerations, UNSCHEDULABLE_TAINT)
    cordoned = Rejection((UNSCHEDULABLE,))

    def check(info: NodeInfo) -> Rejection | None:
        if info.clean:
            return None
        if info.unschedulable and not tolerates_cordon:
            return cordoned
        taint = untolerated_taint(info, tolerations)
        return None if taint is None else Rejection((taint_reason(taint),))

    return check


def _node_affinity(pod: Mapping[str, Any]) -> Filter:
    rejection = Rejection((AFFINITY_MISMATCH,))

    def check(info: NodeInfo) -> Rejection | None:
        return None if node_matches_pod(pod, info) else rejection

    return check


def _ports(wanted: list[HostPort]) -> Filter:
    rejection = Rejection((PORTS_IN_USE,), resolvable=True)

    def conflicts(used: HostPort, port: HostPort) -> bool:
        same_port = used[0] == port[0] and used[2] == port[2]
        return same_port and (used[1] == port[1] or "0.0.0.0" in (used[1], port[1]))

    def check(info: NodeInfo) -> Rejection | None:
        if any(conflicts(used, port) for port in wanted for used in info.ports):
            return rejection
        return None

    return check


def _fit(requests: Amounts) -> Filter:
    cpu, memory = requests.get(CPU, 0), requests.get(MEMORY, 0)
    others = [
        (name, value) for name, value in requests.items() if value > 0 and name not in (CPU, MEMORY, PODS)
    ]

    def reasons(info: NodeInfo) -> Rejection:
        found = ["Too many pods"] if len(info.pods) + 1 > info.allocatable_pods else []
        for name, value in ((CPU, cpu), (MEMORY, memory), *others):
            if value > 0 and info.allocatable.get(name, 0) - info.requested.get(name, 0) < value:
                found.append(f"Insufficient {name}")
        return Rejection(tuple(found), resolvable=True)

    def check(info: NodeInfo) -> Rejection | None:
        # The common case in plain comparisons; the reasons are spelled out only for a rejected node.
        if (
            len(info.pods) >= info.allocatable_pods
            or info.allocatable_cpu - info.requested_cpu < cpu
            or info.allocatable_memory - info.requested_memory < memory
        ):
            return reasons(info)
        for name, value in others:
            if info.allocatable.get(name, 0) - info.requested.get(name, 0) < value:
                return reasons(info)
        return None

    return check


def _volume_affinity(terms_per_volume: list[Sequence[Mapping[str, Any]]]) -> Filter:
    rejection = Rejection((VOLUME_AFFINITY_CONFLICT,))

    def check(info: NodeInfo) -> Rejection | None:
        for terms in terms_per_volume:
            if not selector_matches(terms, info.labels, info.name):
                return rejection
        return None

    return check


def prepare(
    pod: Mapping[str, Any], requests: Amounts, volume_terms: list[Sequence[Mapping[str, Any]]]
) -> list[Filter]:
    """The node-local checks that apply to `pod`, in upstream's order (pod affinity and topology spreading,
    which need the whole cluster, are prepared by kubelite.scheduler.podaffinity)."""
    spec = pod.get("spec") or {}
    tolerations = spec.get("tolerations") or ()
    checks = [_node_conditions(tolerations)]
    if spec.get("nodeSelector") or required_node_terms(pod) is not None:
        checks.append(_node_affinity(pod))
    if ports := host_ports(pod):
        checks.append(_ports(ports))
    checks.append(_fit(requests))
    if volume_terms:
        checks.append(_volume_affinity(volume_terms))
    return checks


def plain_requests(
    pod: Mapping[str, Any], requests: Amounts, volume_terms: list[Sequence[Mapping[str, Any]]]
) -> tuple[int, int] | None:
    """(cpu, memory) when `prepare` gives this pod only the node-condition and fit checks with nothing
    beyond cpu, memory and the pod count: then a clean node's verdict is a few comparisons (the scheduler
    inlines them; any other node still goes through the checks). None for any other pod."""
    spec = pod.get("spec") or {}
    if spec.get("nodeSelector") or required_node_terms(pod) is not None or host_ports(pod) or volume_terms:
        return None
    if any(value > 0 and name not in (CPU, MEMORY, PODS) for name, value in requests.items()):
        return None
    return requests.get(CPU, 0), requests.get(MEMORY, 0)
