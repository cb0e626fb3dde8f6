"""Scores prefer the emptier, preferred and spread-out nodes; the failure message is upstream's."""

from __future__ import annotations

import random

from kubelite.scheduler.cycle import Algorithm, feasible_nodes_to_find
from kubelite.scheduler.failure import Diagnosis
from tests.unit.scheduler.builders import cluster, node, pod

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def test_the_message_counts_reasons_sorted_and_the_preemption_outcome() -> None:
    state = cluster(node("a", cpu="1"), node("b", taints=[CONTROL_PLANE]), node("c", taints=[CONTROL_PLANE]))
    outcome = Algorithm(state).decide(pod("p", cpu="2"))
    assert isinstance(outcome, Diagnosis)
    assert outcome.message() == (
        "0/3 nodes are available: 1 Insufficient cpu, "
        "2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. "
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling."
    )


def test_no_nodes_at_all() -> None:
    outcome = Algorithm(cluster()).decide(pod("p"))
    assert isinstance(outcome, Diagnosis)
    assert outcome.message() == "no nodes available to schedule pods"


def test_least_allocated_wins() -> None:
    state = cluster(node("busy"), node("idle"))
    state.add_pod(pod("x", cpu="3", memory="6Gi"), "busy")
    assert Algorithm(state).decide(pod("p", cpu="100m")) == "idle"


def test_preferred_node_affinity_and_soft_taints() -> None:
    preferred = {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 100,
                "preference": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]},
            }
        ]
    }
    state = cluster(node("plain"), node("gold", labels={"tier": "gold"}))
    assert Algorithm(state).decide(pod("p", affinity={"nodeAffinity": preferred})) == "gold"
    soft = {"key": "spot", "effect": "PreferNoSchedule"}
    state = cluster(node("spot", taints=[soft]), node("normal"))
    assert Algorithm(state).decide(pod("p")) == "normal"


def test_preferred_pod_affinity() -> None:
    state = cluster(node("n1"), node("n2"))
    state.add_pod(pod("db", labels={"app": "db"}), "n2")
    term = {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}
    affinity = {
        "podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]
        }
    }
    assert Algorithm(state).decide(pod("web", affinity=affinity)) == "n2"


def test_pods_of_one_owner_spread_over_nodes() -> None:
    state = cluster(node("n1"), node("n2"), node("n3"))
    algorithm = Algorithm(state, rng=random.Random(1))
    chosen = []
    for i in range(3):
        p = pod(f"r{i}", owner="rs-1")
        target = algorithm.decide(p)
        assert isinstance(target, str)
        state.add_pod(p, target, assumed=True)
        chosen.append(target)
    assert sorted(chosen) == ["n1", "n2", "n3"]


def test_sampling_shrinks_with_the_cluster() -> None:
    assert feasible_nodes_to_find(50) == 50
    assert feasible_nodes_to_find(100) == 100
    assert feasible_nodes_to_find(1000) == 420
    assert feasible_nodes_to_find(5000) == 500  # 10%: upstream reaches 5% only from 5,625 nodes
    assert feasible_nodes_to_find(10000) == 500
    assert feasible_nodes_to_find(20000) == 1000


def test_a_burst_never_overcommits_a_node() -> None:
    state = cluster(*(node(f"n{i}", cpu="1") for i in range(150)))
    algorithm = Algorithm(state)
    for i in range(300):
        p = pod(f"p{i}", cpu="500m")
        target = algorithm.decide(p)
        assert isinstance(target, str)
        state.add_pod(p, target, assumed=True)
    assert all(info.requested["cpu"] == 1000 for info in state.existing())
    assert isinstance(algorithm.decide(pod("extra", cpu="500m")), Diagnosis)
