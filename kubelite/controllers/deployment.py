"""Rolls Deployments out through ReplicaSets, as kube-controller-manager's deployment controller does.

Each template gets its own ReplicaSet, named and labelled by the template's hash; revisions are annotations
on the ReplicaSets (so `kubectl rollout history/undo` work from them). RollingUpdate grows the new set and
shrinks old ones within maxSurge/maxUnavailable; Recreate empties the old sets, waits for their pods to be
gone, then fills the new one. A resize during a rollout is spread over the sets in proportion; a paused
Deployment is only resized. Status and the Progressing/Available conditions follow upstream's reasons.
The arithmetic lives in deployment_util, the status and conditions in deployment_status.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubelite.api import selectors
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot, object_key
from kubelite.client.controller import Controller, RequeueAfter
from kubelite.client.events import WARNING
from kubelite.client.frozen import thaw
from kubelite.client.rest import JSON
from kubelite.controllers import deployment_status as ds
from kubelite.controllers import deployment_util as du
from kubelite.controllers import ownership
from kubelite.controllers.clock import Clock, SystemClock
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.owned import controlled_by, index_by_owner
from kubelite.controllers.ownership import controller_ref
from kubelite.controllers.replicaset import PODS, REPLICASET
from kubelite.controllers.statuspatch import write_status

DEPLOYMENTS = paths.resource("apps", "v1", "deployments")
REPLICASETS = REPLICASET.resource


class DeploymentController:
    def __init__(self, ctx: ControllerContext, *, clock: Clock | None = None, workers: int = 5) -> None:
        self.client = ctx.client
        self.clock = clock or SystemClock()
        self.recorder = ctx.recorder("deployment-controller")
        self.deployments = ctx.informers.informer(DEPLOYMENTS)
        self.replicasets = ctx.informers.informer(REPLICASETS)
        self.pods = ctx.informers.informer(PODS)
        index_by_owner(self.replicasets.cache)
        index_by_owner(self.pods.cache)
        self.controller = Controller("deployment", self.reconcile, workers=workers)
        self.controller.watch(self.deployments)
        self.controller.watch(self.replicasets, keys=self._replicaset_owner_keys)
        # Recreate waits for old pods to be gone: their deletion wakes the Deployment.
        self.pods.add_handlers(on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.pods.synced.wait()
        await self.controller.run()

    def _replicaset_owner_keys(self, rs: Snapshot) -> Iterable[str]:
        meta = rs.get("metadata") or {}
        ref = controller_ref(meta)
        if ref is not None:
            return [f"{meta.get('namespace')}/{ref['name']}"] if ref.get("kind") == "Deployment" else []
        return [  # an orphan wakes every Deployment that might adopt it
            object_key(d)
            for d in self.deployments.cache.list(namespace=meta.get("namespace"))
            if _selector(d).matches(meta.get("labels"))
        ]

    def _pod_deleted(self, pod: Snapshot) -> None:
        meta = pod.get("metadata") or {}
        ref = controller_ref(meta)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.replicasets.cache.get_by_name(ref["name"], namespace=meta.get("namespace"))
        for key in self._replicaset_owner_keys(rs) if rs is not None else ():
            self.controller.queue.add(key)

    # The level-triggered pass (upstream's syncDeployment).

    async def reconcile(self, key: str) -> None:
        cached = self.deployments.cache.get(key)
        if cached is None:
            return
        d: JSON = thaw(cached)
        selector = _selector(d)
        if selector.empty:
            self.recorder.record(
                d,
                reason="SelectingAll",
                event_type=WARNING,
                message="This deployment is selecting all pods. A non-empty selector is required.",
            )
            return
        sets = await self._claim_replicasets(d, selector)
        if d["metadata"].get("deletionTimestamp"):
            new_rs, _ = self._split(d, sets)
            await self._write_status(d, ds.calculate(d, sets, new_rs, self.clock.now()))
            return
        await self._check_paused_conditions(d)
        if (d.get("spec") or {}).get("paused") or self._is_scaling_event(d, sets):
            await self._sync(d, sets)
        elif ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            await self._rollout_recreate(d, sets)
        else:
            await self._rollout_rolling(d, sets)

    async def _claim_replicasets(self, d: JSON, selector: selectors.Selector) -> list[JSON]:
        meta = d["metadata"]
        uid, deleting = meta["uid"], bool(meta.get("deletionTimestamp"))
        claimed: list[JSON] = []
        for rs in controlled_by(self.replicasets.cache, d):
            if selector.matches(rs["metadata"].get("labels")):
                claimed.append(thaw(rs))
            elif not deleting:
                await ownership.release(self.client, REPLICASETS, rs, uid)
        if deleting:
            return claimed
        for rs in self.replicasets.cache.list(namespace=meta["namespace"]):
            rs_meta = rs["metadata"]
            if (
                controller_ref(rs_meta) is None
                and not rs_meta.get("deletionTimestamp")
                and selector.matches(rs_meta.get("labels"))
            ):
                adopted = await ownership.adopt(self.client, REPLICASETS, rs, d, DEPLOYMENTS)
                if adopted is not None:
                    claimed.append(adopted)
        return claimed

    def _split(self, d: JSON, sets: list[JSON]) -> tuple[JSON | None, list[JSON]]:
        """(the ReplicaSet running the current template, the others); the oldest match wins, as upstream."""
        template = du.without_hash(d["spec"]["template"])
        new_rs = next(
            (rs for rs in du.by_creation(sets) if du.without_hash(rs["spec"]["template"]) == template), None
        )
        return new_rs, [rs for rs in sets if rs is not new_rs]

    def _is_scaling_event(self, d: JSON, sets: list[JSON]) -> bool:
        desired = int(d["spec"].get("replicas", 1))
        return any(
            du.annotation_int(rs, du.DESIRED_REPLICAS) not in (None, desired)
            for rs in sets
            if du.replicas(rs) > 0
        )

    # Strategies

    async def _sync(self, d: JSON, sets: list[JSON]) -> None:
        """Resize only (paused, or spec.replicas changed): no new ReplicaSet, no rollout."""
        new_rs, old = await self._new_and_old(d, sets, create=False)
        await self._scale(d, new_rs, old)
        if d["spec"].get("paused"):
            await self._cleanup(d, old)
        await self._write_status(
            d, ds.calculate(d, [*old, *([new_rs] if new_rs else [])], new_rs, self.clock.now())
        )

    async def _rollout_rolling(self, d: JSON, sets: list[JSON]) -> None:
        new_rs, old = await self._new_and_old(d, sets, create=True)
        assert new_rs is not None
        every = [new_rs, *old]
        if not await self._reconcile_new(d, every, new_rs) and not await self._reconcile_old(
            d, every, old, new_rs
        ):
            if du.is_complete(d, d.get("status") or {}):
                await self._cleanup(d, old)
        await self._sync_rollout_status(d, every, new_rs)

    async def _rollout_recreate(self, d: JSON, sets: list[JSON]) -> None:
        new_rs, old = await self._new_and_old(d, sets, create=False)
        every = [*old, *([new_rs] if new_rs else [])]
        scaled = False
        for rs in old:
            if du.replicas(rs) > 0:
                scaled = await self._scale_replicaset(d, rs, 0) or scaled
        if scaled or self._old_pods_running(old):
            await self._sync_rollout_status(d, every, new_rs)
            return
        if new_rs is None:
            new_rs, old = await self._new_and_old(d, sets, create=True)
            assert new_rs is not None
            every = [new_rs, *old]
        await self._scale_replicaset(d, new_rs, int(d["spec"].get("replicas", 1)))
        if du.is_complete(d, d.get("status") or {}):
            await self._cleanup(d, old)
        await self._sync_rollout_status(d, every, new_rs)

    def _old_pods_running(self, old: list[JSON]) -> bool:
        if any(du.status_count(rs, "replicas") > 0 for rs in old):
            return True
        return any(
            (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded")
            for rs in old
            for pod in controlled_by(self.pods.cache, rs)
        )

    async def _reconcile_new(self, d: JSON, every: list[JSON], new_rs: JSON) -> bool:
        desired = int(d["spec"].get("replicas", 1))
        current = du.replicas(new_rs)
        if current == desired:
            return False
        if current > desired:
            return await self._scale_replicaset(d, new_rs, desired)
        return await self._scale_replicaset(d, new_rs, self._new_rs_size(d, every, new_rs))

    def _new_rs_size(self, d: JSON, every: list[JSON], new_rs: JSON | None) -> int:
        desired = int(d["spec"].get("replicas", 1))
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return desired
        surge, _ = du.fenceposts(d)
        current = sum(du.replicas(rs) for rs in every)
        if current >= desired + surge:
            return du.replicas(new_rs)
        return du.replicas(new_rs) + min(desired + surge - current, desired - du.replicas(new_rs))

    async def _reconcile_old(self, d: JSON, every: list[JSON], old: list[JSON], new_rs: JSON) -> bool:
        if sum(du.replicas(rs) for rs in old) == 0:
            return False
        desired = int(d["spec"].get("replicas", 1))
        min_available = desired - du.fenceposts(d)[1]
        new_unavailable = du.replicas(new_rs) - du.status_count(new_rs, "availableReplicas")
        budget = sum(du.replicas(rs) for rs in every) - min_available - new_unavailable
        if budget <= 0:
            return False
        # Unhealthy old pods go first: removing them costs no availability.
        cleaned = 0
        for rs in du.by_creation(old):
            if cleaned >= budget:
                break
            unhealthy = du.replicas(rs) - du.status_count(rs, "availableReplicas")
            if du.replicas(rs) == 0 or unhealthy <= 0:
                continue
            count = min(budget - cleaned, unhealthy)
            await self._scale_replicaset(d, rs, du.replicas(rs) - count)
            cleaned += count
        available = sum(du.status_count(rs, "availableReplicas") for rs in every)
        scaled = 0
        if available > min_available:
            to_remove = available - min_available
            for rs in du.by_creation(old):
                if scaled >= to_remove:
                    break
                if du.replicas(rs) == 0:
                    continue
                count = min(du.replicas(rs), to_remove - scaled)
                await self._scale_replicaset(d, rs, du.replicas(rs) - count)
                scaled += count
        return cleaned + scaled > 0

    async def _scale(self, d: JSON, new_rs: JSON | None, old: list[JSON]) -> None:
        """Upstream's scale(): one active set takes the whole size; a saturated new set retires the old
        ones; otherwise a resize mid-rollout is spread in proportion to each set's size."""
        desired = int(d["spec"].get("replicas", 1))
        every = [*([new_rs] if new_rs else []), *old]
        active = [rs for rs in every if du.replicas(rs) > 0]
        if len(active) <= 1:
            latest = du.by_creation(old, newest_first=True)[:1]
            target = active[0] if active else new_rs or (latest[0] if latest else None)
            if target is not None and du.replicas(target) != desired:
                await self._scale_replicaset(d, target, desired)
            return
        if new_rs is not None and self._saturated(d, new_rs):
            for rs in old:
                if du.replicas(rs) > 0:
                    await self._scale_replicaset(d, rs, 0)
            return
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return
        allowed = desired + du.fenceposts(d)[0] if desired > 0 else 0
        to_add = allowed - sum(du.replicas(rs) for rs in active)
        # Larger sets first; on ties the newer set grows first and the older one shrinks first.
        active.sort(key=lambda rs: rs["metadata"].get("creationTimestamp", ""), reverse=to_add > 0)
        active.sort(key=du.replicas, reverse=True)
        sizes: dict[str, int] = {}
        added = 0
        for rs in active:
            share = du.proportion(rs, d, to_add, added)
            added += share
            sizes[rs["metadata"]["name"]] = du.replicas(rs) + share
        if to_add != added and active:
            first = active[0]["metadata"]["name"]
            sizes[first] = max(sizes[first] + to_add - added, 0)
        for rs in active:
            await self._scale_replicaset(d, rs, sizes[rs["metadata"]["name"]], annotate=True)

    def _saturated(self, d: JSON, new_rs: JSON) -> bool:
        desired = int(d["spec"].get("replicas", 1))
        return (
            du.replicas(new_rs) == desired
            and du.annotation_int(new_rs, du.DESIRED_REPLICAS) == desired
            and du.status_count(new_rs, "availableReplicas") == desired
        )

    async def _scale_replicaset(self, d: JSON, rs: JSON, size: int, *, annotate: bool = False) -> bool:
        """Resize `rs` (updated in place), stamping the Deployment's size on it; True if its size changed."""
        old_size = du.replicas(rs)
        if old_size == size and not annotate:
            return False
        desired = int(d["spec"].get("replicas", 1))
        updated = thaw(rs)
        annotations = updated["metadata"].setdefault("annotations", {})
        annotated = du.set_replica_annotations(annotations, desired, desired + du.fenceposts(d)[0])
        if old_size == size and not annotated:
            return False
        updated["spec"]["replicas"] = size
        fresh = await self.client.update(REPLICASETS, updated)
        rs.clear()
        rs.update(fresh)
        if old_size != size:
            direction = "up" if size > old_size else "down"
            self.recorder.record(
                d,
                reason="ScalingReplicaSet",
                message=(
                    f"Scaled {direction} replica set {rs['metadata']['name']} from {old_size} to {size}"
                ),
            )
        return old_size != size

    # The new ReplicaSet and its revision

    async def _new_and_old(
        self, d: JSON, sets: list[JSON], *, create: bool
    ) -> tuple[JSON | None, list[JSON]]:
        new_rs, old = self._split(d, sets)
        new_revision = max((du.revision(rs) for rs in old), default=0) + 1
        if new_rs is not None:
            await self._sync_existing(d, new_rs, new_revision)
        elif create:
            new_rs = await self._create_new(d, [*old], new_revision)
        return new_rs, old

    async def _sync_existing(self, d: JSON, rs: JSON, new_revision: int) -> None:
        updated = thaw(rs)
        annotations = updated["metadata"].setdefault("annotations", {})
        changed = du.set_new_rs_annotations(d, annotations, new_revision, exists=True)
        min_ready = d["spec"].get("minReadySeconds", 0)
        if updated["spec"].get("minReadySeconds", 0) != min_ready:
            updated["spec"]["minReadySeconds"], changed = min_ready, True
        if changed:
            fresh = await self.client.update(REPLICASETS, updated)
            rs.clear()
            rs.update(fresh)
        await self._set_revision(d, annotations[du.REVISION])
        if (
            du.progress_deadline(d) is not None
            and du.condition(d.get("status") or {}, ds.PROGRESSING) is None
        ):
            status = thaw(d.get("status") or {})
            du.set_condition(
                status,
                ds.PROGRESSING,
                "True",
                "FoundNewReplicaSet",
                f'Found new replica set "{rs["metadata"]["name"]}"',
                self.clock.now(),
            )
            await self._write_status(d, status)

    async def _create_new(self, d: JSON, old: list[JSON], new_revision: int) -> JSON:
        status = thaw(d.get("status") or {})
        template_hash = du.template_hash(du.without_hash(d["spec"]["template"]), status.get("collisionCount"))
        template = thaw(d["spec"]["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})[du.HASH_LABEL] = template_hash
        selector = thaw(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[du.HASH_LABEL] = template_hash
        annotations: dict[str, str] = {}
        du.set_new_rs_annotations(d, annotations, new_revision, exists=False)
        name = f"{d['metadata']['name']}-{template_hash}"
        size = self._new_rs_size(d, old, None)
        body: JSON = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": d["metadata"]["namespace"],
                "labels": template["metadata"]["labels"],
                "annotations": annotations,
                "ownerReferences": [ownership.reference_to(d, DEPLOYMENTS)],
            },
            "spec": {
                "replicas": size,
                "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        try:
            created = await self.client.create(REPLICASETS, body)
        except errors.AlreadyExists:
            existing = await self.client.get(REPLICASETS, name, namespace=d["metadata"]["namespace"])
            ref = controller_ref(existing.get("metadata") or {})
            same = du.without_hash(existing["spec"]["template"]) == du.without_hash(d["spec"]["template"])
            if ref is not None and ref.get("uid") == d["metadata"]["uid"] and same:
                return existing
            status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
            await self._write_status(d, status)
            raise RuntimeError(f"hash collision on replica set {name}; retrying with a new name") from None
        except errors.ClientError as exc:
            message = f'Failed to create new replica set "{name}": {exc}'
            self.recorder.record(d, reason="FailedCreate", message=message, event_type=WARNING)
            if du.progress_deadline(d) is not None:
                du.set_condition(
                    status, ds.PROGRESSING, "False", "ReplicaSetCreateError", message, self.clock.now()
                )
                await self._write_status(d, status)
            raise
        if size > 0:
            self.recorder.record(
                d, reason="ScalingReplicaSet", message=f"Scaled up replica set {name} from 0 to {size}"
            )
        await self._set_revision(d, str(new_revision))
        if du.progress_deadline(d) is not None:
            status = thaw(d.get("status") or {})
            du.set_condition(
                status,
                ds.PROGRESSING,
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{name}"',
                self.clock.now(),
            )
            await self._write_status(d, status)
        return created

    async def _set_revision(self, d: JSON, revision: str) -> None:
        annotations = d["metadata"].get("annotations") or {}
        if annotations.get(du.REVISION) == revision:
            return
        patch = {"metadata": {"annotations": {du.REVISION: revision}}}
        fresh = await self.client.patch(
            DEPLOYMENTS, d["metadata"]["name"], patch, namespace=d["metadata"]["namespace"]
        )
        d.clear()
        d.update(fresh)

    async def _cleanup(self, d: JSON, old: list[JSON]) -> None:
        """Delete the oldest emptied ReplicaSets beyond revisionHistoryLimit."""
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = sorted((rs for rs in old if not rs["metadata"].get("deletionTimestamp")), key=du.revision)
        for rs in alive[: max(len(alive) - int(limit), 0)]:
            meta, status = rs["metadata"], rs.get("status") or {}
            if (
                du.replicas(rs)
                or status.get("replicas")
                or meta.get("generation", 0) > status.get("observedGeneration", 0)
            ):
                continue
            try:
                await self.client.delete(REPLICASETS, meta["name"], namespace=meta["namespace"])
            except errors.NotFound:
                pass

    async def _check_paused_conditions(self, d: JSON) -> None:
        status = d.get("status") or {}
        current = du.condition(status, ds.PROGRESSING)
        if du.progress_deadline(d) is None or (
            current is not None and current.get("reason") == ds.TIMED_OUT_REASON
        ):
            return
        paused = bool(d["spec"].get("paused"))
        shows_paused = current is not None and current.get("reason") == "DeploymentPaused"
        if paused == shows_paused:
            return
        reason, message = (
            ("DeploymentPaused", "Deployment is paused")
            if paused
            else ("DeploymentResumed", "Deployment is resumed")
        )
        fresh = thaw(status)
        du.set_condition(fresh, ds.PROGRESSING, "Unknown", reason, message, self.clock.now())
        await self._write_status(d, fresh)

    # Status

    async def _sync_rollout_status(self, d: JSON, every: list[JSON], new_rs: JSON | None) -> None:
        now = self.clock.now()
        status = ds.rollout(d, every, new_rs, now)
        if status != (d.get("status") or {}):
            await self._write_status(d, status)
            return
        delay = ds.recheck_after(d, status, now)
        if delay is not None:
            raise RequeueAfter(delay)

    async def _write_status(self, d: JSON, status: JSON) -> None:
        if status == (d.get("status") or {}):
            return
        fresh = await write_status(self.client, DEPLOYMENTS, d, status)
        d.clear()
        d.update(fresh)


def _selector(d: Any) -> selectors.Selector:
    try:
        return selectors.from_label_selector((d.get("spec") or {}).get("selector"))
    except selectors.SelectorError:
        return selectors.NOTHING


def new_controller(ctx: ControllerContext) -> DeploymentController:
    return DeploymentController(ctx)
