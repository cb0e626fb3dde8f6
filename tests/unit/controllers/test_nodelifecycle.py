"""Node lifecycle against an in-memory client and a hand-moved clock: silence, Unknown, taints, eviction."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.client.controller import RequeueAfter
from kubelite.controllers.nodelifecycle import (
    LEASES,
    NODES,
    PODS,
    UNREACHABLE,
    NodeLifecycleController,
    toleration_seconds,
)
from tests.support.fakeclient import FakeClient, make_context, seed


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def node(name: str, *, ready: str = "True", taints: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    condition = {"type": "Ready", "status": ready, "reason": "KubeletReady", "lastHeartbeatTime": "t0"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "spec": {"taints": taints} if taints else {},
        "status": {"conditions": [condition]},
    }


def pod(name: str, tolerations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"nodeName": "n1", "tolerations": tolerations or []},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def setup(fake: FakeClient, clock: Clock, *pods: dict[str, Any]) -> NodeLifecycleController:
    controller = NodeLifecycleController(
        make_context(fake, node_monitor_grace_period=40.0, pod_eviction_timeout=0.0), clock=clock
    )
    seed(controller.nodes, fake.add(NODES, node("n1")))
    lease = {"metadata": {"name": "n1", "namespace": "kube-node-lease"}, "spec": {"renewTime": "r1"}}
    seed(controller.leases, fake.add(LEASES, lease))
    seed(controller.pods, *(fake.add(PODS, p) for p in pods))
    return controller


async def test_a_silent_node_goes_unknown_is_tainted_and_loses_untolerating_pods() -> None:
    fake, clock = FakeClient(), Clock()
    forever = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]
    briefly = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}]
    controller = setup(fake, clock, pod("plain"), pod("stays", forever), pod("later", briefly))

    with pytest.raises(RequeueAfter) as within_grace:
        await controller.reconcile("n1")
    assert within_grace.value.delay == pytest.approx(40.0)
    assert fake.actions == []

    clock.now += 41
    with pytest.raises(RequeueAfter) as wait:
        await controller.reconcile("n1")
    assert wait.value.delay == pytest.approx(30.0)  # "later" tolerates the taint for 30 s
    stored = fake.stored(NODES, "n1")
    assert stored is not None
    ready = stored["status"]["conditions"][0]
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    assert {(t["key"], t["effect"]) for t in stored["spec"]["taints"]} == {
        (UNREACHABLE, "NoSchedule"),
        (UNREACHABLE, "NoExecute"),
    }
    assert [a.name for a in fake.writes("delete", "pods")] == ["plain"]
    marked = fake.stored(PODS, "stays", "ns")
    assert marked is not None and marked["status"]["conditions"][0]["status"] == "False"


async def test_a_renewed_lease_restarts_the_grace_period() -> None:
    fake, clock = FakeClient(), Clock()
    controller = setup(fake, clock)
    with pytest.raises(RequeueAfter):
        await controller.reconcile("n1")
    clock.now += 30
    seed(
        controller.leases,
        {"metadata": {"name": "n1", "namespace": "kube-node-lease"}, "spec": {"renewTime": "r2"}},
    )
    with pytest.raises(RequeueAfter):
        await controller.reconcile("n1")
    clock.now += 30  # 60 s since the start, 30 s since the renewal
    with pytest.raises(RequeueAfter):
        await controller.reconcile("n1")
    assert fake.actions == []


async def test_a_node_ready_again_loses_its_taints() -> None:
    fake, clock = FakeClient(), Clock()
    controller = setup(fake, clock)
    tainted = node(
        "n1", taints=[{"key": UNREACHABLE, "effect": "NoSchedule"}, {"key": "mine", "effect": "NoSchedule"}]
    )
    seed(controller.nodes, fake.add(NODES, tainted))
    with pytest.raises(RequeueAfter):
        await controller.reconcile("n1")
    stored = fake.stored(NODES, "n1")
    assert stored is not None and stored["spec"]["taints"] == [{"key": "mine", "effect": "NoSchedule"}]


def test_tolerations_match_as_upstream_matches_them() -> None:
    taint = {"key": UNREACHABLE, "effect": "NoExecute"}
    assert toleration_seconds({"spec": {}}, taint, 300.0) == 300.0  # the DefaultTolerationSeconds stand-in
    assert toleration_seconds({"spec": {}}, {"key": "custom", "effect": "NoExecute"}, 300.0) == 0.0
    everything = {"spec": {"tolerations": [{"operator": "Exists"}]}}
    assert toleration_seconds(everything, taint, 300.0) is None
    wrong_effect = {
        "spec": {"tolerations": [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoSchedule"}]}
    }
    assert toleration_seconds(wrong_effect, taint, 300.0) == 300.0
    two = {
        "spec": {
            "tolerations": [
                {"key": UNREACHABLE, "operator": "Exists", "tolerationSeconds": 60},
                {"operator": "Exists", "tolerationSeconds": 10},
            ]
        }
    }
    assert toleration_seconds(two, taint, 300.0) == 10.0
