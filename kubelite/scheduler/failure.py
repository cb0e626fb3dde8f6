"""The FailedScheduling message, worded as kube-scheduler 1.32 words it.

    0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {a: b}. preemption: 0/3
    nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for
    scheduling.

The first part is a histogram of why nodes were rejected ("<count> <reason>", sorted as strings). kubelite
does not preempt, so the preemption part reports what upstream reports when no lower-priority pod could be
evicted: nodes rejected for a reason eviction could cure (resources, ports, anti-affinity) had no victims,
the others were not helped by preemption.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

NO_NODES = "no nodes available to schedule pods"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"


def _histogram(counts: Counter[str]) -> str:
    return ", ".join(sorted(f"{count} {reason}" for reason, count in counts.items()))


@dataclass
class Diagnosis:
    """Why every node was rejected; or, with `pre_filter`, why the pod fits nowhere at all."""

    total_nodes: int
    reasons: Counter[str] = field(default_factory=Counter)
    resolvable_nodes: int = 0
    unresolvable_nodes: int = 0
    pre_filter: str = ""

    def message(self) -> str:
        if self.total_nodes == 0:
            return NO_NODES
        head = f"0/{self.total_nodes} nodes are available:"
        if self.pre_filter:
            first = f"{head} {self.pre_filter}."
            return f"{first} preemption: {head} {self.total_nodes} {NOT_HELPFUL}."
        preemption: Counter[str] = Counter()
        if self.resolvable_nodes:
            preemption[NO_VICTIMS] = self.resolvable_nodes
        if self.unresolvable_nodes:
            preemption[NOT_HELPFUL] = self.unresolvable_nodes
        return f"{head} {_histogram(self.reasons)}. preemption: {head} {_histogram(preemption)}."
