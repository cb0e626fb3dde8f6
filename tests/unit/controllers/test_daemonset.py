"""The DaemonSet controller's reconcile against an in-memory client: placement, revisions, rolling updates."""

from __future__ import annotations

from typing import Any

from kubelite.client.controller import RequeueAfter
from kubelite.controllers import daemonpods
from kubelite.controllers.daemonrevisions import CONTROLLER_REVISIONS
from kubelite.controllers.daemonset import DAEMONSETS, NODES, PODS, DaemonSetController
from tests.support.fakeclient import FakeClient, FakeRecorder, make_context
from tests.support.fakeclock import FakeClock

KEY = "default/agent"


def daemonset(**spec: Any) -> dict[str, Any]:
    base = {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"containers": [{"name": "c", "image": "agent:1"}]},
        },
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        "revisionHistoryLimit": 10,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default", "uid": "ds-uid", "generation": 1},
        "spec": {**base, **spec},
    }


def node(
    name: str, *, labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints or []},
    }


class Harness:
    def __init__(self, spec: dict[str, Any], *nodes: dict[str, Any]) -> None:
        self.fake = FakeClient()
        self.events = FakeRecorder()
        ctx = make_context(self.fake)
        ctx.recorders["daemonset-controller"] = self.events  # type: ignore[assignment]
        self.ctl = DaemonSetController(ctx, clock=FakeClock())
        self.fake.add(DAEMONSETS, spec)
        for n in nodes:
            self.fake.add(NODES, n)

    async def settle(self, rounds: int = 8) -> None:
        informers = (self.ctl.daemonsets, self.ctl.nodes, self.ctl.pods, self.ctl.revisions)
        for _ in range(rounds):
            self.fake.sync(*informers)
            before = len(self.fake.actions)
            try:
                await self.ctl.reconcile(KEY)
            except RequeueAfter:
                pass
            if len(self.fake.actions) == before:
                break
        self.fake.sync(*informers)

    def placed(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for pod in self.fake.items(PODS, "default"):
            if not pod["metadata"].get("deletionTimestamp"):
                out.setdefault(daemonpods.target_node(pod) or "", []).append(pod)
        return out

    def make_ready(self) -> None:
        for (plural, _, _), pod in list(self.fake.objects.items()):
            if plural == "pods":
                pod["status"] = {
                    "phase": "Running",
                    "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": "2023-12-31T00:00:00Z"}
                    ],
                }
                self.fake.add(PODS, pod)

    def status(self) -> dict[str, Any]:
        found = self.fake.stored(DAEMONSETS, "agent", "default")
        assert found is not None
        return dict(found["status"])

    def update_template(self, image: str) -> None:
        stored = self.fake.objects[("daemonsets", "default", "agent")]
        stored["spec"]["template"]["spec"]["containers"][0]["image"] = image
        stored["metadata"]["generation"] += 1
        self.fake.add(DAEMONSETS, stored)


async def test_one_pod_per_node_pinned_by_node_affinity_with_automatic_tolerations() -> None:
    h = Harness(daemonset(), node("n1"), node("n2"))
    await h.settle()
    placed = h.placed()
    assert sorted(placed) == ["n1", "n2"] and all(len(p) == 1 for p in placed.values())
    pod = placed["n1"][0]
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]
    assert "nodeName" not in pod["spec"]
    tolerated = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert tolerated == {
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    }
    labels = pod["metadata"]["labels"]
    assert labels["app"] == "agent" and labels[daemonpods.TEMPLATE_GENERATION_LABEL] == "1"
    [revision] = h.fake.items(CONTROLLER_REVISIONS, "default")
    assert (
        revision["metadata"]["labels"][daemonpods.REVISION_HASH_LABEL]
        == labels[daemonpods.REVISION_HASH_LABEL]
    )
    assert revision["metadata"]["name"] == f"agent-{labels[daemonpods.REVISION_HASH_LABEL]}"
    assert revision["revision"] == 1
    status = h.status()
    assert (
        status["desiredNumberScheduled"],
        status["currentNumberScheduled"],
        status["numberMisscheduled"],
    ) == (2, 2, 0)
    assert (
        status["numberReady"] == 0 and status["numberUnavailable"] == 2 and status["observedGeneration"] == 1
    )
    h.make_ready()
    await h.settle()
    status = h.status()
    assert (status["numberReady"], status["numberAvailable"], status["updatedNumberScheduled"]) == (2, 2, 2)
    assert "numberUnavailable" not in status


async def test_node_selector_affinity_and_taints_choose_nodes() -> None:
    spec = daemonset()
    template_spec = spec["spec"]["template"]["spec"]
    template_spec["nodeSelector"] = {"disk": "ssd"}
    template_spec["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                ]
            }
        }
    }
    h = Harness(
        spec,
        node("fits", labels={"disk": "ssd", "zone": "a"}),
        node("wrong-disk", labels={"disk": "hdd", "zone": "a"}),
        node("wrong-zone", labels={"disk": "ssd", "zone": "b"}),
        node(
            "tainted",
            labels={"disk": "ssd", "zone": "a"},
            taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}],
        ),
        node(
            "cordoned",
            labels={"disk": "ssd", "zone": "a"},
            taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}],
        ),
    )
    await h.settle()
    assert sorted(h.placed()) == ["cordoned", "fits"]


async def test_new_nodes_get_a_pod_and_removed_or_ineligible_nodes_lose_it() -> None:
    h = Harness(daemonset(), node("n1"))
    await h.settle()
    h.fake.add(NODES, node("n2"))
    await h.settle()
    assert sorted(h.placed()) == ["n1", "n2"]
    del h.fake.objects[("nodes", "", "n1")]
    h.fake.add(NODES, node("n2", taints=[{"key": "evict", "effect": "NoExecute"}]))
    await h.settle()
    assert h.placed() == {}
    assert h.events.reasons().count("SuccessfulDelete") == 2
    # A NoSchedule taint keeps an existing daemon but gets no new one.
    h.fake.add(NODES, node("n3"))
    await h.settle()
    h.fake.add(NODES, node("n3", taints=[{"key": "maint", "effect": "NoSchedule"}]))
    await h.settle()
    assert sorted(h.placed()) == ["n3"]
    assert h.status()["numberMisscheduled"] == 1


async def test_failed_pods_are_replaced() -> None:
    h = Harness(daemonset(), node("n1"))
    await h.settle()
    [pod] = h.placed()["n1"]
    pod["status"] = {"phase": "Failed"}
    h.fake.add(PODS, pod)
    await h.settle()
    [replacement] = h.placed()["n1"]
    assert replacement["metadata"]["name"] != pod["metadata"]["name"]
    assert "FailedDaemonPod" in h.events.reasons()


async def test_rolling_update_replaces_at_most_max_unavailable_at_a_time() -> None:
    h = Harness(daemonset(), node("n1"), node("n2"), node("n3"))
    await h.settle()
    h.make_ready()
    await h.settle()
    old_hash = h.placed()["n1"][0]["metadata"]["labels"][daemonpods.REVISION_HASH_LABEL]
    h.update_template("agent:2")
    await h.settle()
    hashes = [
        p["metadata"]["labels"][daemonpods.REVISION_HASH_LABEL] for pods in h.placed().values() for p in pods
    ]
    assert hashes.count(old_hash) == 2 and len(hashes) == 3  # one node replaced, the others wait
    for _ in range(3):
        h.make_ready()
        await h.settle()
    hashes = [
        p["metadata"]["labels"][daemonpods.REVISION_HASH_LABEL] for pods in h.placed().values() for p in pods
    ]
    assert old_hash not in hashes and len(hashes) == 3
    assert h.status()["updatedNumberScheduled"] == 3
    revisions = sorted(r["revision"] for r in h.fake.items(CONTROLLER_REVISIONS, "default"))
    assert revisions == [1, 2]


async def test_rolling_update_with_max_surge_starts_new_before_deleting_old() -> None:
    h = Harness(
        daemonset(
            updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
        ),
        node("n1"),
    )
    await h.settle()
    h.make_ready()
    await h.settle()
    h.update_template("agent:2")
    await h.settle()
    assert len(h.placed()["n1"]) == 2  # old and new side by side
    h.make_ready()
    await h.settle()
    [pod] = h.placed()["n1"]
    assert pod["spec"]["containers"][0]["image"] == "agent:2"


async def test_on_delete_leaves_old_pods_until_deleted() -> None:
    h = Harness(daemonset(updateStrategy={"type": "OnDelete"}), node("n1"))
    await h.settle()
    h.make_ready()
    await h.settle()
    h.update_template("agent:2")
    await h.settle()
    [pod] = h.placed()["n1"]
    assert pod["spec"]["containers"][0]["image"] == "agent:1"
    del h.fake.objects[("pods", "default", pod["metadata"]["name"])]
    await h.settle()
    [pod] = h.placed()["n1"]
    assert pod["spec"]["containers"][0]["image"] == "agent:2"
