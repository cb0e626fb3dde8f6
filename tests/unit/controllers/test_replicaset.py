"""The ReplicaSet/ReplicationController reconcile against an in-memory client: slow start, expectations,
failures, deletion order, adoption and release, status."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.client import errors
from kubelite.client.controller import RequeueAfter
from kubelite.controllers import replicaset_pods
from kubelite.controllers.clock import format_time
from kubelite.controllers.replicaset import (
    PODS,
    REPLICASET,
    REPLICATION_CONTROLLER,
    ReplicaCreateFailed,
    ReplicaKind,
    ReplicaSetController,
)
from tests.support.fakeclient import FakeRecorder, JsonPatchingFakeClient, make_context
from tests.support.fakeclock import FakeClock

KEY = "default/web"
RS = REPLICASET.resource


def replicaset(replicas: int, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "rs-uid", "generation": 2},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "front"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
            **spec,
        },
    }


def pod(
    name: str,
    *,
    owned: bool = True,
    node: str = "n1",
    phase: str = "Running",
    ready_since: str | None = None,
    labels: dict[str, str] | None = None,
    restarts: int = 0,
    created: str = "2024-01-01T00:00:00Z",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "uid": f"uid-{name}",
        "labels": labels if labels is not None else {"app": "web", "tier": "front"},
        "creationTimestamp": created,
    }
    if owned:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": "rs-uid",
                "controller": True,
            }
        ]
    conditions = [
        {
            "type": "Ready",
            "status": "True" if ready_since else "False",
            **({"lastTransitionTime": ready_since} if ready_since else {}),
        }
    ]
    return {
        "metadata": meta,
        "spec": {"nodeName": node} if node else {},
        "status": {
            "phase": phase,
            "conditions": conditions,
            "containerStatuses": [{"name": "c", "restartCount": restarts}],
        },
    }


class FailingCreates(JsonPatchingFakeClient):
    """Refuses pod creation after `allowed` pods, as a ResourceQuota would."""

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed = allowed
        self.attempts = 0

    async def create(self, res: Any, obj: Any, **options: Any) -> dict[str, Any]:
        self.attempts += 1
        if res.plural == "pods" and self.allowed <= 0:
            raise errors.Forbidden(403, "Forbidden", 'pods "web-x" is forbidden: exceeded quota: pods')
        self.allowed -= 1
        return await super().create(res, obj, **options)


class Harness:
    def __init__(self, fake: JsonPatchingFakeClient | None = None, kind: ReplicaKind = REPLICASET) -> None:
        self.fake = fake or JsonPatchingFakeClient()
        self.clock = FakeClock()
        self.events = FakeRecorder()
        ctx = make_context(self.fake)
        ctx.recorders[kind.component] = self.events  # type: ignore[assignment]
        self.ctl = ReplicaSetController(ctx, kind, clock=self.clock)

    def sync(self) -> None:
        self.fake.sync(self.ctl.owners, self.ctl.pods)

    async def reconcile(self) -> None:
        self.sync()
        await self.ctl.reconcile(KEY)

    def pods(self) -> list[dict[str, Any]]:
        return self.fake.items(PODS, "default")


async def test_creates_missing_pods_in_slow_start_batches_with_owner_and_events() -> None:
    h = Harness()
    h.fake.add(RS, replicaset(7))
    await h.reconcile()
    created = h.pods()
    assert len(created) == 7
    meta = created[0]["metadata"]
    assert meta["generateName"] == "web-" and meta["labels"] == {"app": "web", "tier": "front"}
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web",
            "uid": "rs-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert h.events.reasons() == ["SuccessfulCreate"] * 7
    assert h.events.events[0][1] == f"Created pod: {meta['name']}"


async def test_expectations_hold_back_a_second_burst_until_the_watch_shows_the_pods() -> None:
    h = Harness()
    h.fake.add(RS, replicaset(3))
    h.sync()
    await h.ctl.reconcile(KEY)
    await h.ctl.reconcile(KEY)  # the pod cache still shows nothing: no duplicate creates
    assert len(h.pods()) == 3
    for created in h.pods():
        h.ctl.pods.apply_event("ADDED", created)  # the watch catches up; each add is observed
    assert h.ctl.expectations.satisfied(KEY)


async def test_a_refused_create_stops_the_burst_and_sets_replica_failure() -> None:
    h = Harness(FailingCreates(allowed=3))
    h.fake.add(RS, replicaset(10))
    with pytest.raises(ReplicaCreateFailed, match="exceeded quota"):  # the queue retries with back-off
        await h.reconcile()
    # Batches 1 and 2 succeed; the batch of 4 has one failure and the rest of the burst is skipped.
    assert len(h.pods()) == 3
    assert h.fake.attempts == 7  # type: ignore[attr-defined]
    status = h.fake.stored(RS, "web", "default")["status"]  # type: ignore[index]
    [failure] = status["conditions"]
    assert (failure["type"], failure["status"], failure["reason"]) == (
        "ReplicaFailure",
        "True",
        "FailedCreate",
    )
    assert "exceeded quota" in failure["message"]
    assert "FailedCreate" in h.events.reasons()
    assert h.ctl.expectations.satisfied(KEY) is False  # 3 real creations still to be seen


def test_deletion_order_prefers_the_most_expendable_pods() -> None:
    candidates = [
        pod("old-ready", ready_since="2024-01-01T00:00:00Z"),
        pod("young-ready", ready_since="2024-01-01T01:00:00Z"),
        pod("restarting", ready_since="2024-01-01T00:00:00Z", restarts=5),
        pod("not-ready"),
        pod("pending", phase="Pending"),
        pod("unscheduled", node="", phase="Pending"),
    ]
    order = [p["metadata"]["name"] for p in replicaset_pods.deletion_order(candidates)]
    assert order == ["unscheduled", "pending", "not-ready", "young-ready", "restarting", "old-ready"]


async def test_scaling_down_deletes_the_most_expendable_pods() -> None:
    h = Harness()
    h.fake.add(RS, replicaset(2))
    for p in (
        pod("a", ready_since="2024-01-01T00:00:00Z"),
        pod("b", phase="Pending"),
        pod("c", ready_since="2024-01-01T00:00:00Z"),
        pod("d", node="", phase="Pending"),
    ):
        h.fake.add(PODS, p)
    await h.reconcile()
    assert sorted(p["metadata"]["name"] for p in h.pods()) == ["a", "c"]
    assert sorted(m for r, m, *_ in h.events.events if r == "SuccessfulDelete") == [
        "Deleted pod: b",
        "Deleted pod: d",
    ]


async def test_adopts_matching_orphans_and_releases_pods_that_stopped_matching() -> None:
    h = Harness()
    h.fake.add(RS, replicaset(2))
    h.fake.add(PODS, pod("orphan", owned=False))
    h.fake.add(PODS, pod("strayed", labels={"app": "other"}))
    h.fake.add(PODS, pod("kept"))
    await h.reconcile()
    orphan = h.fake.stored(PODS, "orphan", "default")
    assert orphan is not None and orphan["metadata"]["ownerReferences"][0]["uid"] == "rs-uid"
    strayed = h.fake.stored(PODS, "strayed", "default")
    assert strayed is not None and "ownerReferences" not in strayed["metadata"]
    assert not h.fake.writes("create") and not h.fake.writes("delete")  # orphan + kept = 2
    patch = h.fake.writes("patch", "pods")[0].body
    assert patch[0] == {"op": "test", "path": "/metadata/uid", "value": "uid-strayed"}


async def test_status_counts_and_min_ready_seconds() -> None:
    h = Harness()
    h.fake.add(RS, replicaset(3, minReadySeconds=30))
    now = h.clock.now()
    h.fake.add(PODS, pod("long", ready_since=format_time(now - datetime.timedelta(seconds=60))))
    h.fake.add(PODS, pod("fresh", ready_since=format_time(now - datetime.timedelta(seconds=5))))
    h.fake.add(PODS, pod("partial", labels={"app": "web"}))
    with pytest.raises(RequeueAfter):  # a ready pod becomes available later: look again then
        await h.reconcile()
    status = h.fake.stored(RS, "web", "default")["status"]  # type: ignore[index]
    assert status == {
        "replicas": 3,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 1,
        "observedGeneration": 2,
    }


async def test_replication_controllers_select_with_a_plain_map() -> None:
    h = Harness(kind=REPLICATION_CONTROLLER)
    rc = replicaset(2)
    rc.update(apiVersion="v1", kind="ReplicationController")
    rc["spec"]["selector"] = {"app": "web"}
    h.fake.add(REPLICATION_CONTROLLER.resource, rc)
    h.fake.add(PODS, pod("orphan", owned=False))
    await h.reconcile()
    owners = {p["metadata"]["ownerReferences"][0]["kind"] for p in h.pods()}
    assert len(h.pods()) == 2 and owners == {"ReplicationController"}
