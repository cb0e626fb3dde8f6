"""The Deployment controller's arithmetic and reconcile against an in-memory client: budgets, hashes, new
ReplicaSets and revisions, rolling steps, proportional scaling, conditions, history cleanup."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.client.controller import RequeueAfter
from kubelite.controllers import deployment_status as ds
from kubelite.controllers import deployment_util as du
from kubelite.controllers.clock import format_time
from kubelite.controllers.deployment import DEPLOYMENTS, REPLICASETS, DeploymentController
from tests.support.fakeclient import FakeRecorder, JsonPatchingFakeClient, make_context
from tests.support.fakeclock import FakeClock

KEY = "default/web"


def deployment(replicas: int = 10, image: str = "nginx:1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "d-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "progressDeadlineSeconds": 600,
            "revisionHistoryLimit": 10,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            **spec,
        },
    }


class Harness:
    def __init__(self) -> None:
        self.fake = JsonPatchingFakeClient()
        self.clock = FakeClock()
        self.events = FakeRecorder()
        ctx = make_context(self.fake)
        ctx.recorders["deployment-controller"] = self.events  # type: ignore[assignment]
        self.ctl = DeploymentController(ctx, clock=self.clock)

    async def reconcile(self) -> None:
        self.fake.sync(self.ctl.deployments, self.ctl.replicasets, self.ctl.pods)
        await self.ctl.reconcile(KEY)

    def sets(self) -> dict[str, dict[str, Any]]:
        return {
            rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs
            for rs in self.fake.items(REPLICASETS)
        }

    def make_available(self, rs: dict[str, Any]) -> None:
        """Play the ReplicaSet controller: every pod asked for exists and is available."""
        stored = self.fake.stored(REPLICASETS, rs["metadata"]["name"], "default")
        assert stored is not None
        n = stored["spec"]["replicas"]
        stored["status"] = {
            "replicas": n,
            "readyReplicas": n,
            "availableReplicas": n,
            "observedGeneration": stored["metadata"]["generation"],
        }
        self.fake.add(REPLICASETS, stored)

    def edit_spec(self, **changes: Any) -> None:
        """A user's spec change: a new generation (and resourceVersion)."""
        stored = self.fake.stored(DEPLOYMENTS, "web", "default")
        assert stored is not None
        stored["spec"].update(changes)
        stored["metadata"]["generation"] += 1
        self.fake.add(DEPLOYMENTS, stored)

    def set_image(self, image: str) -> None:
        stored = self.fake.stored(DEPLOYMENTS, "web", "default")
        assert stored is not None
        template = stored["spec"]["template"]
        template["spec"]["containers"][0]["image"] = image
        self.edit_spec(template=template)

    async def settle(self, rounds: int = 8) -> None:
        """Reconcile with every ReplicaSet's pods available at once, until the rollout is done."""
        for _ in range(rounds):
            for rs in self.sets().values():
                self.make_available(rs)
            try:
                await self.reconcile()
            except RequeueAfter:
                pass


def test_fenceposts_round_surge_up_and_unavailability_down() -> None:
    assert du.fenceposts(deployment(10)) == (3, 2)
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%"}}
    assert du.fenceposts(deployment(5, strategy=rolling)) == (0, 1)  # 0 and 0 would stall: 1
    assert du.fenceposts(deployment(5, strategy={"type": "Recreate"})) == (0, 0)


def test_template_hash_is_stable_label_safe_and_moved_by_collisions() -> None:
    template = deployment()["spec"]["template"]
    first = du.template_hash(template, None)
    assert first == du.template_hash({**template}, 0)
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789") and 0 < len(first) <= 10
    assert du.template_hash(template, 1) != first
    assert du.template_hash(deployment(image="nginx:2")["spec"]["template"], None) != first


async def test_a_new_deployment_gets_a_hashed_replicaset_at_revision_1() -> None:
    h = Harness()
    h.fake.add(DEPLOYMENTS, deployment())
    await h.reconcile()
    [rs] = h.fake.items(REPLICASETS)
    template_hash = rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{template_hash}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": template_hash}
    assert rs["spec"]["replicas"] == 10
    assert rs["metadata"]["ownerReferences"][0]["uid"] == "d-uid"
    annotations = rs["metadata"]["annotations"]
    assert annotations[du.REVISION] == "1"
    assert (annotations[du.DESIRED_REPLICAS], annotations[du.MAX_REPLICAS]) == ("10", "13")
    d = h.fake.stored(DEPLOYMENTS, "web", "default")
    assert d is not None and d["metadata"]["annotations"][du.REVISION] == "1"
    progressing = du.condition(d["status"], "Progressing")
    assert progressing is not None and progressing["reason"] == "NewReplicaSetCreated"
    assert (
        "ScalingReplicaSet",
        f"Scaled up replica set {rs['metadata']['name']} from 0 to 10",
    ) == h.events.events[0][:2]


async def test_rolling_update_surges_then_retires_old_pods_within_the_budget() -> None:
    h = Harness()
    h.fake.add(DEPLOYMENTS, deployment())
    await h.reconcile()
    h.make_available(h.sets()["nginx:1"])
    h.set_image("nginx:2")
    await h.reconcile()
    sets = h.sets()
    # maxSurge 3: the new set gets 3 (13 total); maxUnavailable 2: the old set may drop to 8.
    assert sets["nginx:2"]["spec"]["replicas"] == 3
    assert sets["nginx:1"]["spec"]["replicas"] == 8
    assert sets["nginx:2"]["metadata"]["annotations"][du.REVISION] == "2"
    await h.settle()
    sets = h.sets()
    assert (sets["nginx:2"]["spec"]["replicas"], sets["nginx:1"]["spec"]["replicas"]) == (10, 0)
    status = h.fake.stored(DEPLOYMENTS, "web", "default")["status"]  # type: ignore[index]
    assert du.condition(status, "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]
    assert du.condition(status, "Available")["reason"] == "MinimumReplicasAvailable"  # type: ignore[index]


async def test_resizing_mid_rollout_spreads_the_change_in_proportion() -> None:
    h = Harness()
    h.fake.add(DEPLOYMENTS, deployment())
    await h.reconcile()
    h.make_available(h.sets()["nginx:1"])
    h.set_image("nginx:2")
    await h.reconcile()  # old 8, new 3 (max-replicas 13 on both)
    h.edit_spec(replicas=15)
    await h.reconcile()
    sets = h.sets()
    # 15 + ceil(3.75) = 19 allowed, 8 more: old round(8*19/13)-8 = 4, new round(3*19/13)-3 = 1,
    # and the leftover 3 to the larger set.
    assert sets["nginx:1"]["spec"]["replicas"] + sets["nginx:2"]["spec"]["replicas"] == 19
    assert (sets["nginx:1"]["spec"]["replicas"], sets["nginx:2"]["spec"]["replicas"]) == (15, 4)
    assert all(rs["metadata"]["annotations"][du.DESIRED_REPLICAS] == "15" for rs in sets.values())


async def test_paused_deployments_only_scale_and_report_paused() -> None:
    h = Harness()
    h.fake.add(DEPLOYMENTS, deployment(paused=True))
    await h.reconcile()
    assert h.fake.items(REPLICASETS) == []
    progressing = du.condition(h.fake.stored(DEPLOYMENTS, "web", "default")["status"], "Progressing")  # type: ignore[index]
    assert progressing is not None and (progressing["status"], progressing["reason"]) == (
        "Unknown",
        "DeploymentPaused",
    )


def test_progress_deadline_exceeded_after_the_deadline_without_progress() -> None:
    now = datetime.datetime(2024, 1, 1, 1, tzinfo=datetime.UTC)
    d = deployment(3, progressDeadlineSeconds=60)
    stamp = format_time(now - datetime.timedelta(seconds=61))
    d["status"] = {
        "replicas": 3,
        "updatedReplicas": 3,
        "unavailableReplicas": 3,
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
                "message": "",
            }
        ],
    }
    rs = {"metadata": {"name": "web-x"}, "spec": {"replicas": 3}, "status": {"replicas": 3}}
    status = ds.rollout(d, [rs], rs, now)
    progressing = du.condition(status, "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"] == 'ReplicaSet "web-x" has timed out progressing.'
    assert ds.recheck_after(d, d["status"], now - datetime.timedelta(seconds=31)) == pytest.approx(31.0)


async def test_a_stalled_rollout_is_looked_at_again_at_its_deadline() -> None:
    h = Harness()
    h.fake.add(DEPLOYMENTS, deployment(progressDeadlineSeconds=30))
    await h.reconcile()
    with pytest.raises(RequeueAfter) as raised:
        await h.reconcile()
    assert raised.value.delay == pytest.approx(31.0)


async def test_old_empty_replicasets_beyond_the_history_limit_are_deleted() -> None:
    h = Harness()
    h.fake.add(DEPLOYMENTS, deployment(3, revisionHistoryLimit=1))
    for image in ("nginx:1", "nginx:2", "nginx:3"):
        h.set_image(image)
        await h.settle()
    assert sorted(h.sets()) == ["nginx:2", "nginx:3"]
    assert [a.name for a in h.fake.writes("delete", "replicasets")] == [h.fake.writes("create")[0].name]
