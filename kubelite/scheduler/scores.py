"""Scores: which of the feasible nodes suits the pod best. Each plugin gives 0-100 per node; the total is
their weighted sum (upstream's default weights).

- least allocated (1) and balanced allocation (1): cpu and memory after placing the pod, with the
  non-zero defaults for pods that request nothing;
- preferred node affinity (2) and preferred inter-pod (anti-)affinity (2);
- taint toleration (3): fewer untolerated PreferNoSchedule taints is better;
- spreading (2): fewer pods of the same owner on the node, and ScheduleAnyway topology constraints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.api.nodeaffinity import term_matches, tolerated
from kubelite.scheduler import podaffinity
from kubelite.scheduler.nodeinfo import ClusterState, NodeInfo, owner_uid

RESOURCES_WEIGHT = 1
BALANCED_WEIGHT = 1
NODE_AFFINITY_WEIGHT = 2
POD_AFFINITY_WEIGHT = 2
TAINT_WEIGHT = 3
SPREAD_WEIGHT = 2


def _resource_scores(cpu: int, memory: int, nodes: Sequence[NodeInfo]) -> list[float]:
    """least allocated + balanced allocation per node, after adding the pod (inlined: the hot loop)."""
    totals = []
    for info in nodes:
        cpu_total, memory_total = info.allocatable_cpu, info.allocatable_memory
        cpu_used = (info.scoring_cpu + cpu) / cpu_total if cpu_total > 0 else 1.0
        if cpu_used > 1.0:
            cpu_used = 1.0
        memory_used = (info.scoring_memory + memory) / memory_total if memory_total > 0 else 1.0
        if memory_used > 1.0:
            memory_used = 1.0
        least = (2.0 - cpu_used - memory_used) * 50
        balanced = (1.0 - abs(cpu_used - memory_used) / 2) * 100
        totals.append(RESOURCES_WEIGHT * least + BALANCED_WEIGHT * balanced)
    return totals


def _scaled_up(raw: Sequence[float]) -> list[float]:
    """0-100 with the highest raw value at 100 (raw values are >= 0)."""
    top = max(raw, default=0)
    return [value * 100 / top if top > 0 else 0.0 for value in raw]


def _scaled_down(raw: Sequence[float]) -> list[float]:
    """0-100 with the lowest raw value at 100 and the highest at 0."""
    low, high = min(raw, default=0), max(raw, default=0)
    return [100.0 if high == low else (high - value) * 100 / (high - low) for value in raw]


def _preferred_node_affinity(pod: Mapping[str, Any], nodes: Sequence[NodeInfo]) -> list[float] | None:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    preferred = affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
    if not preferred:
        return None
    raw = [
        sum(
            int(p.get("weight", 0))
            for p in preferred
            if term_matches(p.get("preference") or {}, n.labels, n.name)
        )
        for n in nodes
    ]
    return _scaled_up(raw)


def _soft_taints(pod: Mapping[str, Any], nodes: Sequence[NodeInfo]) -> list[float] | None:
    if not any(t.get("effect") == "PreferNoSchedule" for n in nodes for t in n.taints):
        return None
    tolerations = [
        t
        for t in (pod.get("spec") or {}).get("tolerations") or ()
        if t.get("effect") in (None, "", "PreferNoSchedule")
    ]
    raw = [
        sum(1 for t in n.taints if t.get("effect") == "PreferNoSchedule" and not tolerated(tolerations, t))
        for n in nodes
    ]
    return _scaled_down(raw)


def _pod_affinity(
    pod: Mapping[str, Any], nodes: Sequence[NodeInfo], state: ClusterState
) -> list[float] | None:
    weights = podaffinity.preferred_affinity_weights(pod, state)
    if not weights:
        return None
    raw = [sum(w * found.get(n.labels.get(key, ""), 0) for key, found, w in weights) for n in nodes]
    low = min(raw)
    return _scaled_up([value - low for value in raw])


def _spreading(pod: Mapping[str, Any], nodes: Sequence[NodeInfo], state: ClusterState) -> list[float] | None:
    owner = owner_uid(pod)
    counts = state.owner_counts.get(owner) if owner else None
    penalties = podaffinity.soft_spread_penalties(pod, state)
    if not counts and not penalties:
        return None
    raw = [0.0] * len(nodes)
    for key, found in penalties:
        for i, n in enumerate(nodes):
            raw[i] += found.get(n.labels.get(key, ""), 0)
    if counts:
        for i, n in enumerate(nodes):
            raw[i] += counts.get(n.name, 0)
    if not counts and not any(raw):
        return None
    return _scaled_down(raw)


def score(
    pod: Mapping[str, Any], scoring: tuple[int, int], nodes: Sequence[NodeInfo], state: ClusterState
) -> list[float]:
    """The weighted total per node, in the order given."""
    totals = _resource_scores(*scoring, nodes)
    extras = (
        (NODE_AFFINITY_WEIGHT, _preferred_node_affinity(pod, nodes)),
        (TAINT_WEIGHT, _soft_taints(pod, nodes)),
        (POD_AFFINITY_WEIGHT, _pod_affinity(pod, nodes, state)),
        (SPREAD_WEIGHT, _spreading(pod, nodes, state)),
    )
    for weight, scores in extras:
        if scores is not None:
            totals = [t + weight * s for t, s in zip(totals, scores, strict=True)]
    return totals
