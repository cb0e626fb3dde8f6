"""One scheduling decision: filter nodes, score the feasible ones, pick the best.

Like upstream, it stops filtering once it has found enough feasible nodes (percentageOfNodesToScore,
adaptive: 50% minus 1% per 125 nodes, so 10% of 5,000 nodes and 5% from 5,625 on, never fewer than 100),
and each cycle starts where the previous one stopped, so every node gets its turn. That keeps a cycle's cost
nearly flat in the cluster's size. Only when no node fits are all of them examined, to say why in the failure
message.
A plain pod (filters.plain_requests) on a clean node is judged by a few comparisons before the filter chain.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.scheduler import filters, podaffinity, resources, scores
from kubelite.scheduler.failure import Diagnosis
from kubelite.scheduler.nodeinfo import ClusterState, NodeInfo

MIN_FEASIBLE_NODES = 100


def feasible_nodes_to_find(total: int) -> int:
    if total < MIN_FEASIBLE_NODES:
        return total
    percentage = max(50 - total / 125, 5)
    return max(int(total * percentage / 100), MIN_FEASIBLE_NODES)


@dataclass(frozen=True, slots=True)
class VolumeConstraints:
    """What the pod's volumes require: node affinity terms of each bound PV, or a reason it fits nowhere;
    and the unbound WaitForFirstConsumer claims (namespace, name) that get the chosen node."""

    node_terms: list[Sequence[Mapping[str, Any]]]
    problem: str = ""
    waiting_claims: tuple[tuple[str, str], ...] = ()


class Algorithm:
    """The decision logic over a ClusterState; keeps the round-robin position between cycles."""

    def __init__(self, state: ClusterState, *, rng: random.Random | None = None) -> None:
        self.state = state
        self._next_start = 0
        self._rng = rng or random.Random()

    def decide(self, pod: Mapping[str, Any], volumes: VolumeConstraints | None = None) -> str | Diagnosis:
        """The chosen node's name, or the Diagnosis of why none fits."""
        ring = self.state.order
        total = len(ring)
        volumes = volumes or VolumeConstraints([])
        if total == 0 or volumes.problem:
            return Diagnosis(total, pre_filter=volumes.problem)
        requests = resources.pod_requests(pod)
        checks = filters.prepare(pod, requests, volumes.node_terms)
        plain = filters.plain_requests(pod, requests, volumes.node_terms)
        if podaffinity.has_rules(pod) or self.state.anti_affinity_pods:
            checks += podaffinity.prepare_filters(pod, self.state)
            plain = None
        cpu, memory = plain or (0, 0)
        wanted = feasible_nodes_to_find(total)
        feasible: list[NodeInfo] = []
        diagnosis = Diagnosis(total)
        start = self._next_start % total
        examined = 0
        for info in itertools.chain(itertools.islice(ring, start, None), itertools.islice(ring, start)):
            examined += 1
            if (  # the checks' outcome for a plain pod on a clean node, in plain comparisons
                plain is not None
                and info.clean
                and len(info.pods) < info.allocatable_pods
                and info.allocatable_cpu - info.requested_cpu >= cpu
                and info.allocatable_memory - info.requested_memory >= memory
            ):
                feasible.append(info)
                if len(feasible) >= wanted:
                    break
                continue
            for check in checks:
                rejection = check(info)
                if rejection is not None:
                    diagnosis.reasons.update(rejection.reasons)
                    if rejection.resolvable:
                        diagnosis.resolvable_nodes += 1
                    else:
                        diagnosis.unresolvable_nodes += 1
                    break
            else:
                feasible.append(info)
                if len(feasible) >= wanted:
                    break
        self._next_start = (start + examined) % total
        if not feasible:
            return diagnosis
        if len(feasible) == 1:
            return feasible[0].name
        totals = scores.score(pod, resources.scoring_requests(pod, requests), feasible, self.state)
        return self._best(feasible, totals)

    def _best(self, feasible: Sequence[NodeInfo], totals: Sequence[float]) -> str:
        """The highest total; ties broken at random, as upstream."""
        top = max(totals)
        best = [info for info, total in zip(feasible, totals, strict=True) if total == top]
        return best[0].name if len(best) == 1 else self._rng.choice(best).name
