"""Keeps the number of pods a ReplicaSet (apps/v1) or ReplicationController (core/v1) asks for.

One module serves both kinds: they differ only in where they live and how their selector is spelled (a
LabelSelector for ReplicaSets, a plain label map for ReplicationControllers). Each pass claims pods (adopting
matching orphans, releasing owned pods that stopped matching), creates missing pods in slow-start batches
(1, 2, 4, ...) or deletes the most expendable surplus (upstream's ActivePods order), and writes status.
Expectations keep a burst of writes from being repeated before the pod watch shows them.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api import selectors
from kubelite.api.resources import Resource
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot, object_key
from kubelite.client.controller import Controller, RequeueAfter
from kubelite.client.events import WARNING
from kubelite.client.frozen import thaw
from kubelite.client.rest import JSON
from kubelite.controllers import ownership
from kubelite.controllers import replicaset_pods as pods_util
from kubelite.controllers.clock import Clock, SystemClock, format_time
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.expectations import Expectations
from kubelite.controllers.owned import controlled_by, index_by_owner
from kubelite.controllers.ownership import controller_ref
from kubelite.controllers.statuspatch import write_status

PODS = paths.resource("", "v1", "pods")
BURST_REPLICAS = 500  # upstream's cap on pods created or deleted in one pass
CONTROLLERLESS_INDEX = "controllerless-namespace"


def controllerless_namespace(obj: Snapshot) -> Iterable[str]:
    """Index pods that no controller owns by namespace: the candidates for adoption."""
    meta = obj.get("metadata") or {}
    if any(ref.get("controller") for ref in meta.get("ownerReferences") or ()):
        return ()
    namespace = meta.get("namespace")
    return (namespace,) if namespace else ()


@dataclass(frozen=True)
class ReplicaKind:
    resource: Resource
    component: str  # the events' source, as upstream names it
    selector: Callable[[Mapping[str, Any]], selectors.Selector]


def _label_selector(spec: Mapping[str, Any]) -> selectors.Selector:
    return selectors.from_label_selector(spec.get("selector"))


def _map_selector(spec: Mapping[str, Any]) -> selectors.Selector:
    labels = spec.get("selector") or {}
    if not labels:
        return selectors.NOTHING
    return selectors.from_label_selector({"matchLabels": labels})


REPLICASET = ReplicaKind(
    paths.resource("apps", "v1", "replicasets"), "replicaset-controller", _label_selector
)
REPLICATION_CONTROLLER = ReplicaKind(
    paths.resource("", "v1", "replicationcontrollers"), "replication-controller", _map_selector
)


class ReplicaSetController:
    def __init__(
        self, ctx: ControllerContext, kind: ReplicaKind, *, clock: Clock | None = None, workers: int = 5
    ) -> None:
        self.kind = kind
        self.client = ctx.client
        self.clock = clock or SystemClock()
        self.recorder = ctx.recorder(kind.component)
        self.expectations = Expectations()
        self.owners = ctx.informers.informer(kind.resource)
        self.pods = ctx.informers.informer(PODS)
        index_by_owner(self.pods.cache)
        self.pods.add_indexers({CONTROLLERLESS_INDEX: controllerless_namespace})
        self.controller = Controller(kind.resource.plural, self.reconcile, workers=workers)
        self.controller.watch(self.owners)
        self.controller.watch(self.pods, keys=self._pod_owner_keys)
        self.pods.add_handlers(
            on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted
        )

    async def run(self) -> None:
        await self.controller.run()

    # Pod events: whose pods they are, and what they tell the expectations.

    def _owner_key(self, pod: Snapshot) -> str | None:
        meta = pod.get("metadata") or {}
        ref = controller_ref(meta)
        if ref is None or ref.get("kind") != self.kind.resource.kind:
            return None
        owner = self.owners.cache.get_by_name(ref["name"], namespace=meta.get("namespace"))
        if owner is None or (owner.get("metadata") or {}).get("uid") != ref.get("uid"):
            return None
        return object_key(owner)

    def _pod_owner_keys(self, pod: Snapshot) -> Iterable[str]:
        meta = pod.get("metadata") or {}
        if controller_ref(meta) is not None:
            key = self._owner_key(pod)
            return (key,) if key else ()
        labels = meta.get("labels") or {}
        return [  # an orphan wakes every owner that might adopt it
            object_key(owner)
            for owner in self.owners.cache.list(namespace=meta.get("namespace"))
            if self._selector(owner).matches(labels)
        ]

    def _pod_added(self, pod: Snapshot) -> None:
        key = self._owner_key(pod)
        if key is None:
            return
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            self.expectations.deletion_observed(key, object_key(pod))
        else:
            self.expectations.creation_observed(key)

    def _pod_updated(self, old: Snapshot, new: Snapshot) -> None:
        if (new.get("metadata") or {}).get("deletionTimestamp"):
            key = self._owner_key(new)
            if key is not None:
                self.expectations.deletion_observed(key, object_key(new))

    def _pod_deleted(self, pod: Snapshot) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, object_key(pod))

    def _selector(self, owner: Mapping[str, Any]) -> selectors.Selector:
        try:
            return self.kind.selector(owner.get("spec") or {})
        except selectors.SelectorError:
            return selectors.NOTHING

    # The level-triggered pass.

    async def reconcile(self, key: str) -> None:
        owner = self.owners.cache.get(key)
        if owner is None:
            self.expectations.forget(key)
            return
        meta = owner["metadata"]
        need_sync = self.expectations.satisfied(key)
        pods = await self._claim_pods(owner)
        failure: str | None = None
        if need_sync and not meta.get("deletionTimestamp"):
            failure = await self._manage_replicas(key, owner, pods)
        waiting = await self._write_status(owner, pods, failure)
        if failure is not None:  # retried through the rate-limited queue, with back-off (e.g. a full quota)
            raise ReplicaCreateFailed(failure)
        if waiting:  # ready pods become available minReadySeconds later: count them then
            raise RequeueAfter(float((owner.get("spec") or {}).get("minReadySeconds") or 0))

    async def _claim_pods(self, owner: Snapshot) -> list[Snapshot]:
        """Active pods this owner controls after adopting matching orphans and releasing non-matching ones."""
        meta = owner["metadata"]
        namespace, uid = meta["namespace"], meta["uid"]
        selector = self._selector(owner)
        deleting = bool(meta.get("deletionTimestamp"))
        claimed: list[Snapshot] = []
        for pod in controlled_by(self.pods.cache, owner):
            if selector.matches(pod["metadata"].get("labels")):
                claimed.append(pod)
            elif not deleting:
                await ownership.release(self.client, PODS, pod, uid)
        orphans = [
            pod
            for pod in self.pods.cache.by_index(CONTROLLERLESS_INDEX, namespace)
            if not pod["metadata"].get("deletionTimestamp")
            and selector.matches(pod["metadata"].get("labels"))
        ]
        if orphans and not deleting and await self._still_same_owner(owner):
            for pod in orphans:
                adopted = await ownership.adopt(self.client, PODS, pod, owner, self.kind.resource)
                if adopted is not None:
                    claimed.append(adopted)
        return [p for p in claimed if pods_util.is_active(p)]

    async def _still_same_owner(self, owner: Snapshot) -> bool:
        """Adopt only for an owner that still exists and is not being deleted (read fresh, as upstream)."""
        meta = owner["metadata"]
        try:
            fresh = await self.client.get(self.kind.resource, meta["name"], namespace=meta["namespace"])
        except errors.NotFound:
            return False
        fresh_meta = fresh.get("metadata") or {}
        return fresh_meta.get("uid") == meta["uid"] and not fresh_meta.get("deletionTimestamp")

    async def _manage_replicas(self, key: str, owner: Snapshot, pods: list[Snapshot]) -> str | None:
        """Create or delete pods toward spec.replicas; returns the first create error's message, if any."""
        wanted = int((owner.get("spec") or {}).get("replicas", 1) or 0)
        diff = len(pods) - wanted
        if diff < 0:
            return await self._create_pods(key, owner, min(-diff, BURST_REPLICAS))
        if diff > 0:
            await self._delete_pods(key, owner, pods_util.deletion_order(pods)[: min(diff, BURST_REPLICAS)])
        return None

    def _new_pod(self, owner: Snapshot) -> JSON:
        template = thaw((owner.get("spec") or {}).get("template") or {})
        meta = template.get("metadata") or {}
        pod_meta: JSON = {
            "generateName": f"{owner['metadata']['name']}-",
            "namespace": owner["metadata"]["namespace"],
            "ownerReferences": [ownership.reference_to(owner, self.kind.resource)],
        }
        for field in ("labels", "annotations", "finalizers"):
            if meta.get(field):
                pod_meta[field] = meta[field]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec") or {}}

    async def _create_pods(self, key: str, owner: Snapshot, count: int) -> str | None:
        """Slow start: batches of 1, 2, 4, ...; a batch with a failure ends the burst (e.g. quota)."""
        self.expectations.expect_creations(key, count)
        namespace = owner["metadata"]["namespace"]
        remaining, batch = count, 1
        while remaining > 0:
            size = min(batch, remaining)
            results = await asyncio.gather(
                *(self.client.create(PODS, self._new_pod(owner), namespace=namespace) for _ in range(size)),
                return_exceptions=True,
            )
            remaining -= size
            failure: str | None = None
            for result in results:
                if isinstance(result, errors.ClientError):
                    self.expectations.creation_observed(key)  # it will never show up
                    failure = failure or str(result)
                    self.recorder.record(
                        owner, reason="FailedCreate", message=f"Error creating: {result}", event_type=WARNING
                    )
                elif isinstance(result, BaseException):
                    raise result
                else:
                    self.recorder.record(
                        owner, reason="SuccessfulCreate", message=f"Created pod: {result['metadata']['name']}"
                    )
            if failure is not None:
                for _ in range(remaining):
                    self.expectations.creation_observed(key)
                return failure
            batch *= 2
        return None

    async def _delete_pods(self, key: str, owner: Snapshot, doomed: list[Snapshot]) -> None:
        self.expectations.expect_deletions(key, [object_key(p) for p in doomed])

        async def delete(pod: Snapshot) -> None:
            name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
            try:
                await self.client.delete(PODS, name, namespace=namespace)
            except errors.NotFound:
                self.expectations.deletion_observed(key, object_key(pod))
            except errors.ClientError as exc:
                self.expectations.deletion_observed(key, object_key(pod))
                self.recorder.record(
                    owner, reason="FailedDelete", message=f"Error deleting: {exc}", event_type=WARNING
                )
                raise
            else:
                self.recorder.record(owner, reason="SuccessfulDelete", message=f"Deleted pod: {name}")

        await asyncio.gather(*(delete(p) for p in doomed))

    async def _write_status(self, owner: Snapshot, pods: list[Snapshot], failure: str | None) -> bool:
        """Write status if it changed; True when some ready pod is not available yet (minReadySeconds)."""
        spec = owner.get("spec") or {}
        now = self.clock.now()
        min_ready = int(spec.get("minReadySeconds") or 0)
        template_labels = (((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}).items()
        ready, available = pods_util.count_ready(pods, min_ready, now)
        status = thaw(owner.get("status") or {})
        status.update(
            replicas=len(pods),
            fullyLabeledReplicas=sum(
                1 for p in pods if template_labels <= (p["metadata"].get("labels") or {}).items()
            ),
            readyReplicas=ready,
            availableReplicas=available,
            observedGeneration=owner["metadata"].get("generation", 0),
        )
        _set_failure_condition(status, failure, now)
        if status != owner.get("status"):
            await write_status(self.client, self.kind.resource, owner, status)
        return available < ready


class ReplicaCreateFailed(Exception):
    """Pods could not be created; the key is retried with back-off."""


def _set_failure_condition(status: JSON, failure: str | None, now: datetime.datetime) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
    previous = next((c for c in status.get("conditions") or [] if c.get("type") == "ReplicaFailure"), None)
    if failure is not None:
        # Kept while it stands, as upstream: each refused create names a new pod, and rewriting the
        # message each time would make every status write wake this controller again.
        if previous is not None:
            conditions.append(previous)
        else:
            conditions.append(
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "reason": "FailedCreate",
                    "message": failure,
                    "lastTransitionTime": format_time(now),
                }
            )
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def new_controller(ctx: ControllerContext) -> ReplicaSetController:
    return ReplicaSetController(ctx, REPLICASET)


def new_replication_controller(ctx: ControllerContext) -> ReplicaSetController:
    return ReplicaSetController(ctx, REPLICATION_CONTROLLER)
