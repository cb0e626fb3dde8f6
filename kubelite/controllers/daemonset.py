"""The DaemonSet controller: one pod on every eligible node, rolled to the current template node by node.

One level-triggered reconcile per DaemonSet:

1. Find the current ControllerRevision (creating it for a new template) and the hash its pods carry.
2. For each node decide whether a daemon pod belongs there (kubelite.controllers.daemonpods); create the
   missing ones (pinned by required node affinity on metadata.name, for the scheduler to bind), delete
   failed ones, duplicates, and those on nodes that no longer want them or no longer exist.
3. RollingUpdate: replace old pods while at most maxUnavailable desired nodes lack an available pod; with
   maxSurge, start the new pod next to the old one first and delete the old one once the new is available.
   OnDelete: pods are only replaced once someone deletes them.
4. Write the status counters and trim revisions beyond revisionHistoryLimit.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot, object_key
from kubelite.client.controller import Controller, RequeueAfter, owner_keys
from kubelite.client.events import WARNING
from kubelite.client.frozen import thaw
from kubelite.controllers import daemonpods, daemonrevisions
from kubelite.controllers.clock import Clock, SystemClock, parse_time
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.daemonpods import DAEMONSETS
from kubelite.controllers.expectations import Expectations
from kubelite.controllers.owned import controlled_by, index_by_owner

NODES = paths.resource("", "v1", "nodes")
PODS = paths.resource("", "v1", "pods")


def scaled(value: Any, total: int, *, round_up: bool) -> int:
    """An IntOrString (3 or "25%") against `total`."""
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value or 0)


class DaemonSetController:
    def __init__(self, ctx: ControllerContext, *, clock: Clock | None = None) -> None:
        self.client = ctx.client
        self.clock: Clock = clock or SystemClock()
        self.recorder = ctx.recorder("daemonset-controller")
        self.daemonsets = ctx.informers.informer(DAEMONSETS)
        self.nodes = ctx.informers.informer(NODES)
        self.pods = ctx.informers.informer(PODS)
        self.revisions = ctx.informers.informer(daemonrevisions.CONTROLLER_REVISIONS)
        index_by_owner(self.pods.cache)
        index_by_owner(self.revisions.cache)
        self.expectations = Expectations()
        self.controller = Controller("daemonset", self.reconcile, workers=2)
        self.controller.watch(self.daemonsets)
        self.controller.watch(self.pods, keys=owner_keys("DaemonSet"))
        self.controller.watch(self.revisions, keys=owner_keys("DaemonSet"))
        self.controller.watch(self.nodes, keys=self._every_daemonset)
        self.pods.add_handlers(on_add=self._pod_added, on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.controller.run()

    def _every_daemonset(self, node: Snapshot) -> Iterable[str]:
        return self.daemonsets.cache.keys()

    def _pod_added(self, pod: Snapshot) -> None:
        for key in owner_keys("DaemonSet")(pod):
            self.expectations.creation_observed(key)

    def _pod_deleted(self, pod: Snapshot) -> None:
        for key in owner_keys("DaemonSet")(pod):
            self.expectations.deletion_observed(key, object_key(pod))

    async def reconcile(self, key: str) -> None:
        daemonset = self.daemonsets.cache.get(key)
        if daemonset is None:
            self.expectations.forget(key)
            return
        if daemonset["metadata"].get("deletionTimestamp"):
            return  # the garbage collector removes the pods
        owned_revisions = controlled_by(self.revisions.cache, daemonset)
        try:
            current = await daemonrevisions.current_revision(self.client, daemonset, owned_revisions)
        except daemonrevisions.HashCollision:
            await self._bump_collision_count(daemonset)
            raise
        current_hash = str(current["metadata"]["labels"][daemonpods.REVISION_HASH_LABEL])
        pods = [
            p for p in controlled_by(self.pods.cache, daemonset) if not p["metadata"].get("deletionTimestamp")
        ]
        by_node: dict[str, list[Snapshot]] = {}
        for pod in pods:
            by_node.setdefault(daemonpods.target_node(pod) or "", []).append(pod)
        placements = {
            str(node["metadata"]["name"]): daemonpods.placement(
                daemonset["spec"]["template"].get("spec") or {}, node
            )
            for node in self.nodes.cache.list()
        }
        requeue = None
        if self.expectations.satisfied(key):
            requeue = await self._manage(key, daemonset, current_hash, by_node, placements)
        await self._write_status(daemonset, current_hash, by_node, placements)
        in_use = {str((p["metadata"].get("labels") or {}).get(daemonpods.REVISION_HASH_LABEL)) for p in pods}
        await daemonrevisions.trim_history(
            self.client, daemonset, owned_revisions, current=str(current["metadata"]["name"]), in_use=in_use
        )
        if requeue is not None:
            raise RequeueAfter(requeue)

    def _available(self, pod: Snapshot, min_ready: int) -> tuple[bool, float | None]:
        """Whether a pod is available (ready for minReadySeconds), and if it will be soon, in how long."""
        for condition in (pod.get("status") or {}).get("conditions") or ():
            if condition.get("type") != "Ready" or condition.get("status") != "True":
                continue
            since = parse_time(condition.get("lastTransitionTime"))
            if not min_ready or since is None:
                return True, None
            left = (since + datetime.timedelta(seconds=min_ready) - self.clock.now()).total_seconds()
            return left <= 0, (left if left > 0 else None)
        return False, None

    async def _manage(
        self,
        key: str,
        daemonset: Snapshot,
        current_hash: str,
        by_node: dict[str, list[Snapshot]],
        placements: dict[str, daemonpods.Placement],
    ) -> float | None:
        create: list[str] = []
        delete: list[Snapshot] = []
        for node_name in sorted(set(placements) | set(by_node)):
            place = placements.get(node_name, daemonpods.Placement(False, False))
            here = by_node.get(node_name, [])
            if not place.may_stay or (not place.should_run and not here):
                delete.extend(here)
                continue
            failed = [p for p in here if (p.get("status") or {}).get("phase") == "Failed"]
            for pod in failed:
                message = (
                    f"Found failed daemon pod {object_key(pod)} on node {node_name}, will try to kill it"
                )
                self.recorder.record(daemonset, reason="FailedDaemonPod", message=message, event_type=WARNING)
            delete.extend(failed)
            alive = sorted(
                (p for p in here if p not in failed),
                key=lambda p: str(p["metadata"].get("creationTimestamp")),
            )
            if not alive and place.should_run:
                create.append(node_name)
            elif len(alive) > 1 and not self._surging(daemonset, alive, current_hash):
                delete.extend(alive[1:])  # duplicates: keep the oldest
        requeue = None
        if (
            not create
            and not delete
            and (daemonset["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate")
            == "RollingUpdate"
        ):
            create, delete, requeue = self._roll(daemonset, current_hash, by_node, placements)
        self.expectations.expect_creations(key, len(create))
        for node_name in create:
            try:
                pod = await self.client.create(PODS, daemonpods.new_pod(daemonset, node_name, current_hash))
            except errors.ApiError:
                self.expectations.creation_observed(key)
                raise
            self.recorder.record(
                daemonset, reason="SuccessfulCreate", message=f"Created pod: {pod['metadata']['name']}"
            )
        if delete:
            self.expectations.expect_deletions(key, [object_key(p) for p in delete])
        for pod in delete:
            try:
                await self.client.delete(
                    PODS, str(pod["metadata"]["name"]), namespace=pod["metadata"]["namespace"]
                )
            except errors.NotFound:
                self.expectations.deletion_observed(key, object_key(pod))
                continue
            self.recorder.record(
                daemonset, reason="SuccessfulDelete", message=f"Deleted pod: {pod['metadata']['name']}"
            )
        return requeue

    @staticmethod
    def _hash(pod: Snapshot) -> str | None:
        return (pod["metadata"].get("labels") or {}).get(daemonpods.REVISION_HASH_LABEL)

    def _surging(self, daemonset: Snapshot, alive: list[Snapshot], current_hash: str) -> bool:
        """Two pods on a node (one old, one new) are a surge in progress, not duplicates, under maxSurge."""
        rolling = (daemonset["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
        hashes = [self._hash(p) for p in alive]
        return len(alive) == 2 and bool(rolling.get("maxSurge")) and hashes.count(current_hash) == 1

    def _roll(
        self,
        daemonset: Snapshot,
        current_hash: str,
        by_node: dict[str, list[Snapshot]],
        placements: dict[str, daemonpods.Placement],
    ) -> tuple[list[str], list[Snapshot], float | None]:
        """One step of a rolling update: which nodes get a new pod and which old pods go now."""
        spec = daemonset["spec"]
        rolling = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
        desired = [n for n, p in placements.items() if p.should_run]
        max_surge = scaled(rolling.get("maxSurge", 0), len(desired), round_up=True)
        max_unavailable = scaled(rolling.get("maxUnavailable", 1), len(desired), round_up=False)
        if max_surge == 0 and max_unavailable == 0:
            max_unavailable = 1
        min_ready = int(spec.get("minReadySeconds") or 0)
        requeue: float | None = None
        unavailable = 0
        old_on: dict[str, Snapshot] = {}
        new_on: dict[str, Snapshot] = {}
        for node_name in desired:
            pods = by_node.get(node_name, [])
            old = [p for p in pods if self._hash(p) != current_hash]
            new = [p for p in pods if self._hash(p) == current_hash]
            ready = False
            for pod in pods:
                available, soon = self._available(pod, min_ready)
                ready = ready or available
                if soon is not None:
                    requeue = soon if requeue is None else min(requeue, soon)
            if not ready:
                unavailable += 1
            if old:
                old_on[node_name] = old[0]
            if new:
                new_on[node_name] = new[0]
        create: list[str] = []
        delete: list[Snapshot] = []
        surging = sum(1 for n in old_on if n in new_on)
        for node_name, old_pod in sorted(old_on.items()):
            new_pod = new_on.get(node_name)
            old_available = self._available(old_pod, min_ready)[0]
            if new_pod is not None:
                if self._available(new_pod, min_ready)[0]:
                    delete.append(old_pod)
            elif max_surge > 0 and old_available:
                if surging < max_surge:
                    create.append(node_name)
                    surging += 1
            elif not old_available:
                delete.append(old_pod)  # already unavailable: replacing it costs nothing
            elif unavailable < max_unavailable:
                delete.append(old_pod)
                unavailable += 1
        return create, delete, requeue

    async def _write_status(
        self,
        daemonset: Snapshot,
        current_hash: str,
        by_node: dict[str, list[Snapshot]],
        placements: dict[str, daemonpods.Placement],
    ) -> None:
        min_ready = int(daemonset["spec"].get("minReadySeconds") or 0)
        desired = scheduled = misscheduled = ready = updated = available = 0
        for node_name, place in placements.items():
            pods = by_node.get(node_name, [])
            if not place.should_run:
                misscheduled += 1 if pods else 0
                continue
            desired += 1
            if not pods:
                continue
            scheduled += 1
            newest = max(pods, key=lambda p: str(p["metadata"].get("creationTimestamp")))
            if any(
                (c.get("type"), c.get("status")) == ("Ready", "True")
                for c in (newest.get("status") or {}).get("conditions") or ()
            ):
                ready += 1
            if self._available(newest, min_ready)[0]:
                available += 1
            if self._hash(newest) == current_hash:
                updated += 1
        status = thaw(daemonset.get("status") or {})
        status.update(
            currentNumberScheduled=scheduled,
            numberMisscheduled=misscheduled,
            desiredNumberScheduled=desired,
            numberReady=ready,
            updatedNumberScheduled=updated,
            numberAvailable=available,
            numberUnavailable=desired - available,
            observedGeneration=daemonset["metadata"].get("generation", 1),
        )
        for field in ("numberAvailable", "numberUnavailable", "updatedNumberScheduled"):
            if not status[field]:
                del status[field]  # omitempty upstream
        if status == (daemonset.get("status") or {}):
            return
        await self.client.update(DAEMONSETS, {**thaw(daemonset), "status": status}, subresource="status")

    async def _bump_collision_count(self, daemonset: Snapshot) -> None:
        status = thaw(daemonset.get("status") or {})
        status["collisionCount"] = status.get("collisionCount", 0) + 1
        await self.client.update(DAEMONSETS, {**thaw(daemonset), "status": status}, subresource="status")


def new_controller(ctx: ControllerContext) -> DaemonSetController:
    return DaemonSetController(ctx)
