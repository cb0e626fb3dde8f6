"""Each filter decides with upstream's reasons; decisions run over hand-built cluster states."""

from __future__ import annotations

from typing import Any

from kubelite.scheduler.cycle import Algorithm, VolumeConstraints
from kubelite.scheduler.failure import Diagnosis
from kubelite.scheduler.filters import plain_requests
from kubelite.scheduler.resources import pod_requests
from tests.unit.scheduler.builders import cluster, node, pod

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def decide(
    state_nodes: list[dict[str, Any]], p: dict[str, Any], volumes: VolumeConstraints | None = None
) -> str | Diagnosis:
    return Algorithm(cluster(*state_nodes)).decide(p, volumes)


def reasons(outcome: str | Diagnosis) -> dict[str, int]:
    assert isinstance(outcome, Diagnosis), f"expected no fit, got {outcome}"
    return dict(outcome.reasons)


def test_requests_take_the_larger_of_init_containers_and_the_sum_plus_overhead() -> None:
    p = pod(
        "p",
        containers=[
            {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "200m"}}},
        ],
        initContainers=[{"name": "i", "resources": {"requests": {"cpu": "500m", "memory": "32Mi"}}}],
        overhead={"cpu": "50m"},
    )
    assert pod_requests(p) == {"cpu": 550, "memory": 64 * 1024 * 1024}


def test_resource_fit_counts_bound_and_assumed_pods() -> None:
    state = cluster(node("n1", cpu="1"))
    state.add_pod(pod("a", cpu="600m"), "n1", assumed=True)
    outcome = Algorithm(state).decide(pod("b", cpu="500m"))
    assert reasons(outcome) == {"Insufficient cpu": 1}
    assert Algorithm(state).decide(pod("c", cpu="400m")) == "n1"


def test_too_many_pods_and_memory() -> None:
    state = cluster(node("n1", pods="1", memory="1Gi"))
    state.add_pod(pod("a"), "n1")
    assert reasons(Algorithm(state).decide(pod("b", memory="2Gi"))) == {
        "Too many pods": 1,
        "Insufficient memory": 1,
    }


def test_node_selector_and_required_affinity_operators() -> None:
    nodes = [node("small", labels={"size": "2", "zone": "a"}), node("big", labels={"size": "8", "zone": "b"})]
    assert decide(nodes, pod("p", nodeSelector={"zone": "b"})) == "big"
    term = {"matchExpressions": [{"key": "size", "operator": "Gt", "values": ["4"]}]}
    affinity = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
    }
    assert decide(nodes, pod("p", affinity=affinity)) == "big"
    fields = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["small"]}]}
    affinity = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [fields]}}
    }
    assert decide(nodes, pod("p", affinity=affinity)) == "small"
    missing: dict[str, Any] = {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}
    affinity = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [missing]}}
    }
    assert reasons(decide(nodes, pod("p", affinity=affinity))) == {
        "node(s) didn't match Pod's node affinity/selector": 2
    }


def test_taints_need_tolerations_and_not_ready_or_cordoned_nodes_are_skipped() -> None:
    nodes = [
        node("cp", taints=[CONTROL_PLANE]),
        node("down", ready=False),
        node("cordoned", unschedulable=True),
    ]
    assert reasons(decide(nodes, pod("p"))) == {
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }": 1,
        "node(s) had untolerated taint {node.kubernetes.io/not-ready: }": 1,
        "node(s) were unschedulable": 1,
    }
    tolerate = [
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert decide(nodes, pod("p", tolerations=tolerate)) == "cp"
    # Tolerating everything includes the cordon (node.kubernetes.io/unschedulable) and not-ready taints.
    assert decide(nodes, pod("p", tolerations=[{"operator": "Exists"}])) in ("cp", "down", "cordoned")


def test_host_ports_conflict_on_the_same_protocol_and_port() -> None:
    state = cluster(node("n1"))
    state.add_pod(
        pod("a", containers=[{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}]), "n1"
    )
    clash = pod("b", containers=[{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}])
    assert reasons(Algorithm(state).decide(clash)) == {
        "node(s) didn't have free ports for the requested pod ports": 1
    }
    udp = pod(
        "c", containers=[{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]}]
    )
    assert Algorithm(state).decide(udp) == "n1"


def test_pod_affinity_and_anti_affinity() -> None:
    state = cluster(node("n1", labels={"zone": "a"}), node("n2", labels={"zone": "b"}))
    state.add_pod(pod("db", labels={"app": "db"}), "n1")
    term = {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}
    near = pod("web", affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}})
    assert Algorithm(state).decide(near) == "n1"
    far = pod("web", affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}})
    assert Algorithm(state).decide(far) == "n2"
    lonely = {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "zone"}
    stray = pod("x", affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [lonely]}})
    assert reasons(Algorithm(state).decide(stray)) == {"node(s) didn't match pod affinity rules": 2}


def test_existing_pods_anti_affinity_keeps_newcomers_away() -> None:
    state = cluster(node("n1"), node("n2"))
    term = {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
    loner = pod(
        "loner", affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    )
    state.add_pod(loner, "n1")
    assert Algorithm(state).decide(pod("web", labels={"app": "web"})) == "n2"


def test_topology_spread_do_not_schedule() -> None:
    state = cluster(node("n1", labels={"zone": "a"}), node("n2", labels={"zone": "b"}), node("bare"))
    state.add_pod(pod("a1", labels={"app": "x"}), "n1")
    constraint = {
        "maxSkew": 1,
        "topologyKey": "zone",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "x"}},
    }
    new = pod("a2", labels={"app": "x"}, topologySpreadConstraints=[constraint])
    assert Algorithm(state).decide(new) == "n2"
    state.add_pod(pod("a2", labels={"app": "x"}), "n2")
    state.add_pod(pod("a3", labels={"app": "x"}), "n2")
    outcome = Algorithm(state).decide(pod("a4", labels={"app": "x"}, topologySpreadConstraints=[constraint]))
    assert outcome == "n1"


def test_volume_node_affinity_and_missing_claims() -> None:
    nodes = [node("n1", labels={"disk": "ssd"}), node("n2")]
    terms = [{"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]
    assert decide(nodes, pod("p"), VolumeConstraints([terms])) == "n1"
    outcome = decide([node("n2")], pod("p"), VolumeConstraints([terms]))
    assert reasons(outcome) == {"node(s) had volume node affinity conflict": 1}
    missing = decide(nodes, pod("p"), VolumeConstraints([], 'persistentvolumeclaim "data" not found'))
    assert isinstance(missing, Diagnosis)
    assert missing.message() == (
        '0/2 nodes are available: persistentvolumeclaim "data" not found. '
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )


def test_plain_pods_are_judged_by_comparisons_on_clean_nodes_and_by_the_checks_elsewhere() -> None:
    extended = pod("gpu", containers=[{"name": "c", "resources": {"requests": {"example.com/gpu": "1"}}}])
    plain = pod("p", cpu="500m", tolerations=[{"operator": "Exists"}])
    assert plain_requests(plain, pod_requests(plain), []) == (500, 0)
    assert plain_requests(extended, pod_requests(extended), []) is None
    assert plain_requests(pod("s", nodeSelector={"a": "b"}), {}, []) is None
    hostport = pod("h", containers=[{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}])
    assert plain_requests(hostport, {}, []) is None

    state = cluster(
        node("full", cpu="1"), node("cordoned", unschedulable=True), node("tainted", taints=[CONTROL_PLANE])
    )
    state.add_pod(pod("a", cpu="800m"), "full")
    # The clean node fails the comparisons and then the fit check; the others pass the checks (tolerated).
    assert Algorithm(state).decide(plain) in ("cordoned", "tainted")
    outcome = Algorithm(state).decide(pod("q", cpu="500m"))
    assert reasons(outcome) == {
        "Insufficient cpu": 1,
        "node(s) were unschedulable": 1,
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }": 1,
    }
