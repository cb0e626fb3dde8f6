"""The StatefulSet controller: pods with stable names and claims, created, removed and updated in order.

One level-triggered reconcile per StatefulSet, after upstream's stateful_set_control.go:

1. Claim pods (adopt matching orphans, release owned pods that no longer match the selector); find
   updateRevision (the ControllerRevision of the current template) and currentRevision (status's).
2. Replicas (ordinals in range) in ascending order: delete finished pods (they come back), create missing
   ones, their claims first. OrderedReady stops at the first pod it created or that is not yet running,
   ready and available; Parallel goes on.
3. Condemned pods (ordinals out of range) in descending order: delete them, their claims staying or going
   with them per persistentVolumeClaimRetentionPolicy; OrderedReady one at a time, only once all is healthy.
4. RollingUpdate: delete old-revision pods from the highest ordinal down to the partition, at most
   maxUnavailable (default 1) unavailable at once; they are recreated from updateRevision. OnDelete: only
   pods someone deleted are recreated (from updateRevision).
5. Write status and trim revisions beyond revisionHistoryLimit.

Pod names are fixed, so no expectations are needed: a create racing a stale cache fails with AlreadyExists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api import selectors
from kubelite.client import errors
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller, RequeueAfter, owner_keys
from kubelite.client.events import WARNING
from kubelite.client.frozen import thaw
from kubelite.controllers import ownership
from kubelite.controllers import statefulset_pods as sp
from kubelite.controllers import statefulset_revisions as revisions
from kubelite.controllers.clock import Clock, SystemClock
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.daemonrevisions import CONTROLLER_REVISIONS
from kubelite.controllers.daemonset import scaled
from kubelite.controllers.owned import controlled_by, index_by_owner
from kubelite.controllers.replicaset import CONTROLLERLESS_INDEX, controllerless_namespace
from kubelite.controllers.statefulset_status import compute_status, is_available
from kubelite.controllers.statuspatch import write_status


class _Wait(Exception):
    """OrderedReady: this pass may do nothing more."""


class StatefulSetController:
    def __init__(self, ctx: ControllerContext, *, clock: Clock | None = None) -> None:
        self.client = ctx.client
        self.clock: Clock = clock or SystemClock()
        self.recorder = ctx.recorder("statefulset-controller")
        self.sets = ctx.informers.informer(sp.STATEFULSETS)
        self.pods = ctx.informers.informer(sp.PODS)
        self.claims = ctx.informers.informer(sp.CLAIMS)
        self.revisions = ctx.informers.informer(CONTROLLER_REVISIONS)
        index_by_owner(self.pods.cache)
        self.pods.add_indexers({CONTROLLERLESS_INDEX: controllerless_namespace})
        index_by_owner(self.revisions.cache)
        self.controller = Controller("statefulset", self.reconcile, workers=2)
        self.controller.watch(self.sets)
        self.controller.watch(self.pods, keys=owner_keys("StatefulSet"))
        self.controller.watch(self.revisions, keys=owner_keys("StatefulSet"))

    async def run(self) -> None:
        await self.controller.run()

    async def reconcile(self, key: str) -> None:
        sts = self.sets.cache.get(key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return  # the garbage collector removes pods (and claims the set owns)
        owned = controlled_by(self.revisions.cache, sts)
        try:
            update = await revisions.update_revision(self.client, sts, owned)
        except revisions.HashCollision:
            status = thaw(sts.get("status") or {})
            status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
            await write_status(self.client, sp.STATEFULSETS, sts, status)
            raise
        named = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in owned if r["metadata"]["name"] == named), update)
        pods = await self._claim_pods(sts)
        requeue: float | None = None
        try:
            requeue = await self._sync(sts, pods, current, update)
        except _Wait:
            pass
        status = compute_status(
            sts, pods, current["metadata"]["name"], update["metadata"]["name"], self.clock.now()
        )
        if status != (sts.get("status") or {}):
            await write_status(self.client, sp.STATEFULSETS, sts, status)
        live = {status["currentRevision"], status["updateRevision"]} | {sp.revision_of(p) or "" for p in pods}
        await revisions.trim_history(self.client, sts, owned, live)
        if requeue is not None:
            raise RequeueAfter(requeue)

    async def _claim_pods(self, sts: Snapshot) -> list[Snapshot]:
        """The set's pods after adopting matching orphans and releasing owned pods that stopped matching."""
        meta = sts["metadata"]
        try:
            selector = selectors.from_label_selector(sts["spec"].get("selector"))
        except selectors.SelectorError:
            selector = selectors.NOTHING
        claimed: list[Snapshot] = []
        for pod in controlled_by(self.pods.cache, sts):
            if selector.matches(pod["metadata"].get("labels")):
                claimed.append(pod)
            else:
                await ownership.release(self.client, sp.PODS, pod, meta["uid"])
        for pod in self.pods.cache.by_index(CONTROLLERLESS_INDEX, meta["namespace"]):
            if not sp.is_terminating(pod) and selector.matches(pod["metadata"].get("labels")):
                adopted = await ownership.adopt(self.client, sp.PODS, pod, sts, sp.STATEFULSETS)
                if adopted is not None:
                    claimed.append(adopted)
        return claimed

    async def _sync(
        self, sts: Snapshot, pods: list[Snapshot], current: Snapshot, update: Snapshot
    ) -> float | None:
        """Steps 2-4; raises _Wait where OrderedReady must stop. Returns when to look again, if time will
        make a pod available (minReadySeconds)."""
        spec, name = sts["spec"], sts["metadata"]["name"]
        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.clock.now()
        wanted = sp.ordinal_range(sts)
        replicas: dict[int, Snapshot] = {}
        condemned: list[tuple[int, Snapshot]] = []
        for pod in pods:
            ordinal = sp.ordinal_of(name, pod)
            if ordinal is None:
                continue
            if ordinal in wanted:
                replicas[ordinal] = pod
            else:
                condemned.append((ordinal, pod))
        condemned.sort(key=lambda item: item[0], reverse=True)
        healthy = {
            o for o, p in replicas.items() if is_available(p, min_ready, now) and not sp.is_terminating(p)
        }
        requeue = float(min_ready) if any(sp.is_running_and_ready(p) for p in replicas.values()) else None
        unhealthy = [o for o in wanted if o not in healthy] + [
            o for o, p in condemned if not sp.is_running_and_ready(p) or sp.is_terminating(p)
        ]

        def wait() -> None:
            if monotonic:
                raise _Wait

        for ordinal in wanted:
            found = replicas.get(ordinal)
            if found is not None and sp.is_finished(found) and not sp.is_terminating(found):
                await self._delete_pod(sts, found)
                wait()
                continue
            if found is None:
                await self._ensure_claims(sts, ordinal, None)
                await self._create_pod(sts, self._revision_for(sts, ordinal, current, update), ordinal)
                wait()
                continue
            await self._ensure_claims(sts, ordinal, found)
            if ordinal not in healthy:
                wait()
        for ordinal, pod in condemned:
            if sp.is_terminating(pod):
                wait()
                continue
            if monotonic and unhealthy and unhealthy[0] != ordinal:
                raise _Wait  # scale down only a healthy set, or its first unhealthy pod
            await self._ensure_claims(sts, ordinal, pod)
            await self._delete_pod(sts, pod)
            wait()
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            await self._roll(sts, replicas, healthy, update["metadata"]["name"])
        return requeue if requeue and len(healthy) < len(replicas) else None

    async def _roll(
        self, sts: Snapshot, replicas: dict[int, Snapshot], healthy: set[int], update: str
    ) -> None:
        rolling = (sts["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
        wanted = sp.ordinal_range(sts)
        budget = max(scaled(rolling.get("maxUnavailable", 1), len(wanted), round_up=False), 1)
        budget -= sum(1 for o in wanted if o not in healthy)
        first = wanted.start + int(rolling.get("partition") or 0)
        for ordinal in reversed(wanted):
            if budget <= 0 or ordinal < first:
                return
            pod = replicas.get(ordinal)
            if pod is not None and sp.revision_of(pod) != update and not sp.is_terminating(pod):
                await self._delete_pod(sts, pod)
                budget -= 1

    @staticmethod
    def _revision_for(sts: Snapshot, ordinal: int, current: Snapshot, update: Snapshot) -> Snapshot:
        """Upstream's newVersionedStatefulSetPod: pods below the partition come back at currentRevision."""
        strategy = sts["spec"].get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate")
        start = sp.ordinal_range(sts).start
        if rolling is not None:
            old = ordinal - start < int(rolling.get("partition") or 0)
        else:
            current_count = int((sts.get("status") or {}).get("currentReplicas") or 0)
            old = strategy.get("type", "RollingUpdate") == "RollingUpdate" and ordinal - start < current_count
        return current if old else update

    async def _create_pod(self, sts: Snapshot, revision: Snapshot, ordinal: int) -> None:
        template = revisions.revision_template(revision)
        pod = sp.new_pod(sts, template, str(revision["metadata"]["name"]), ordinal)
        try:
            await self.client.create(sp.PODS, pod)
        except errors.AlreadyExists:
            return  # our cache is behind
        except errors.ClientError as exc:
            self._event(sts, "Create", pod, failure=exc)
            raise
        self._event(sts, "Create", pod)

    async def _delete_pod(self, sts: Snapshot, pod: Snapshot) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete(sp.PODS, str(meta["name"]), namespace=meta["namespace"])
        except errors.NotFound:
            return
        except errors.ClientError as exc:
            self._event(sts, "Delete", pod, failure=exc)
            raise
        self._event(sts, "Delete", pod)

    def _event(
        self, sts: Snapshot, verb: str, pod: Mapping[str, Any], failure: Exception | None = None
    ) -> None:
        what = f"{verb.lower()} Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']}"
        if failure is None:
            self.recorder.record(sts, reason=f"Successful{verb}", message=f"{what} successful")
        else:
            self.recorder.record(
                sts, reason=f"Failed{verb}", message=f"{what} failed error: {failure}", event_type=WARNING
            )

    async def _ensure_claims(self, sts: Snapshot, ordinal: int, pod: Snapshot | None) -> None:
        """Create the pod's missing claims; bring existing ones' ownerReferences in line with the policy."""
        meta = sts["metadata"]
        pod_name = f"{meta['name']}-{ordinal}"
        for template in sts["spec"].get("volumeClaimTemplates") or ():
            name = sp.claim_name(template, meta["name"], ordinal)
            claim = self.claims.cache.get_by_name(name, namespace=meta["namespace"])
            if claim is None:
                try:
                    await self.client.create(sp.CLAIMS, sp.new_claim(sts, template, ordinal, pod))
                except errors.AlreadyExists:
                    continue
                message = f"create Claim {name} Pod {pod_name} in StatefulSet {meta['name']} success"
                self.recorder.record(sts, reason="SuccessfulCreate", message=message)
                continue
            if claim["metadata"].get("deletionTimestamp"):
                raise RuntimeError(f"pvc {name} is being deleted")  # retried once it is gone
            refs = thaw(list(claim["metadata"].get("ownerReferences") or ()))
            owners = sp.claim_owners(sts, pod, ordinal, refs)
            if {r.get("uid") for r in owners} != {r.get("uid") for r in refs}:
                patch = {"metadata": {"ownerReferences": owners or None}}
                await self.client.patch(sp.CLAIMS, name, patch, namespace=meta["namespace"])


def new_controller(ctx: ControllerContext) -> StatefulSetController:
    return StatefulSetController(ctx)
