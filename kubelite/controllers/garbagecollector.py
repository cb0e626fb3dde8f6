"""The garbage collector: deletes objects whose owners are gone, and carries out the propagation policy
the API server recorded on a deleted owner.

The ownership graph is the informers' caches over every kind that can own or be owned, indexed by owner uid.
Each key names one object; reconciling it does whichever applies:

- the object is being deleted with the `orphan` finalizer: strip its uid from its dependents' ownerReferences,
  then remove the finalizer (Orphan);
- it is being deleted with `foregroundDeletion`: delete its dependents, and remove the finalizer once none of
  those with blockOwnerDeletion is left (Foreground);
- it has ownerReferences: if none of its owners exists any more (or they all wait for their dependents
  to go), delete it (Background, or Foreground towards a waiting owner). Owners that exist are solid;
  references to vanished owners next to a solid one are dropped.

An owner missing from the cache is confirmed absent by a live GET, and the dependent is re-read live before
it is deleted, so a lagging cache can never delete an object whose owner exists.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kubelite.api.resources import RESOURCES, Resource
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot, by_owner_uid, object_key, split_key
from kubelite.client.controller import Controller
from kubelite.client.frozen import thaw
from kubelite.client.informer import Informer
from kubelite.client.rest import JSON, RestClient
from kubelite.controllers.context import ControllerContext

log = logging.getLogger(__name__)

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
OWNER_INDEX = "owner"
# Events are a record, never owners or owned in practice, and the busiest kind: upstream ignores them too.
_IGNORED = {("", "events"), ("events.k8s.io", "events")}
GRAPH_RESOURCES: tuple[Resource, ...] = tuple(
    r
    for r in RESOURCES
    if {"list", "watch", "delete"} <= set(r.verbs) and (r.group, r.plural) not in _IGNORED
)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _deleting_with(obj: Mapping[str, Any], finalizer: str) -> bool:
    meta = _meta(obj)
    return bool(meta.get("deletionTimestamp")) and finalizer in (meta.get("finalizers") or ())


def graph_key(res: Resource, obj: Mapping[str, Any]) -> str:
    return f"{res.group}|{res.plural}|{object_key(obj)}"


class GarbageCollector:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client: RestClient = ctx.client
        self.controller = Controller("garbagecollector", self.reconcile, workers=4)
        self.informers: dict[tuple[str, str], Informer] = {}
        self.uids: dict[str, str] = {}  # uid -> graph key, of every object in the caches
        for res in GRAPH_RESOURCES:
            informer = ctx.informers.informer(res)
            informer.add_indexers({OWNER_INDEX: by_owner_uid})
            self.informers[(res.group, res.plural)] = informer
            self._watch(res, informer)

    async def run(self) -> None:
        for informer in self.informers.values():  # the whole graph, before judging any owner absent
            await informer.synced.wait()
        await self.controller.run()

    # Events: keep the uid map current and enqueue whatever the change may concern.

    def _watch(self, res: Resource, informer: Informer) -> None:
        def added(obj: Snapshot) -> None:
            self.uids[str(_meta(obj).get("uid", ""))] = graph_key(res, obj)
            self.controller.queue.add(graph_key(res, obj))

        def updated(old: Snapshot, new: Snapshot) -> None:
            self.uids[str(_meta(new).get("uid", ""))] = graph_key(res, new)
            old_meta, new_meta = _meta(old), _meta(new)
            if any(
                old_meta.get(f) != new_meta.get(f)
                for f in ("ownerReferences", "finalizers", "deletionTimestamp")
            ):
                self.controller.queue.add(graph_key(res, new))
                self._enqueue_owners(old)
                if new_meta.get("deletionTimestamp"):
                    self._enqueue_dependents(str(new_meta.get("uid", "")))

        def deleted(obj: Snapshot) -> None:
            uid = str(_meta(obj).get("uid", ""))
            if self.uids.get(uid) == graph_key(res, obj):
                del self.uids[uid]
            self._enqueue_dependents(uid)
            self._enqueue_owners(obj)

        informer.add_handlers(on_add=added, on_update=updated, on_delete=deleted)

    def _enqueue_dependents(self, uid: str) -> None:
        for res_key, informer in self.informers.items():
            for dependent in informer.cache.by_index(OWNER_INDEX, uid):
                self.controller.queue.add(f"{res_key[0]}|{res_key[1]}|{object_key(dependent)}")

    def _enqueue_owners(self, obj: Mapping[str, Any]) -> None:
        for ref in _meta(obj).get("ownerReferences") or ():
            key = self.uids.get(str(ref.get("uid", "")))
            if key is not None:
                self.controller.queue.add(key)

    # Reconcile

    def _lookup(self, key: str) -> tuple[Resource, Informer, str | None, str]:
        group, plural, rest = key.split("|", 2)
        informer = self.informers[(group, plural)]
        namespace, name = split_key(rest)
        return informer.resource, informer, namespace, name

    async def reconcile(self, key: str) -> None:
        res, informer, namespace, name = self._lookup(key)
        obj = informer.cache.get_by_name(name, namespace=namespace)
        if obj is None:
            return
        if _deleting_with(obj, ORPHAN):
            await self._orphan_dependents(res, obj)
        elif _deleting_with(obj, FOREGROUND):
            await self._delete_dependents_first(res, obj)
        elif _meta(obj).get("ownerReferences"):
            await self._collect_if_abandoned(res, obj)

    def dependents(self, uid: str) -> list[tuple[Resource, Snapshot]]:
        return [
            (informer.resource, dependent)
            for informer in self.informers.values()
            for dependent in informer.cache.by_index(OWNER_INDEX, uid)
        ]

    async def _orphan_dependents(self, res: Resource, owner: Snapshot) -> None:
        uid = str(_meta(owner)["uid"])
        for dep_res, dependent in self.dependents(uid):
            try:
                live = thaw(await self._get(dep_res, dependent))
            except errors.NotFound:
                continue
            refs = _meta(live).get("ownerReferences") or []
            kept = [ref for ref in refs if ref.get("uid") != uid]
            if len(kept) != len(refs):
                live["metadata"]["ownerReferences"] = kept
                await self.client.update(dep_res, live)
        await self._remove_finalizer(res, owner, ORPHAN)

    async def _delete_dependents_first(self, res: Resource, owner: Snapshot) -> None:
        uid = str(_meta(owner)["uid"])
        blocking = 0
        for dep_res, dependent in self.dependents(uid):
            ref = next(r for r in _meta(dependent).get("ownerReferences") or () if r.get("uid") == uid)
            if ref.get("blockOwnerDeletion"):
                blocking += 1
            if not _meta(dependent).get("deletionTimestamp"):
                # A blocking dependent goes the same way, so the owner's wait reaches down the tree.
                policy = "Foreground" if ref.get("blockOwnerDeletion") else "Background"
                await self._delete_if_still_owned(dep_res, dependent, uid, policy)
        if blocking == 0:
            await self._remove_finalizer(res, owner, FOREGROUND)

    async def _collect_if_abandoned(self, res: Resource, obj: Snapshot) -> None:
        if _meta(obj).get("deletionTimestamp"):
            return  # already going
        refs = _meta(obj).get("ownerReferences") or ()
        states = {str(ref.get("uid")): await self._owner_state(obj, ref) for ref in refs}
        if "solid" in states.values():
            dangling = {uid for uid, state in states.items() if state == "absent"}
            if dangling:
                await self._drop_references(res, obj, dangling)
            return
        waiting = "waiting" in states.values()
        meta = _meta(obj)
        if ORPHAN in (meta.get("finalizers") or ()):
            policy = "Orphan"
        elif waiting or FOREGROUND in (meta.get("finalizers") or ()):
            policy = "Foreground"
        else:
            policy = "Background"
        await self._delete_if_still_owned(res, obj, None, policy)

    async def _owner_state(self, dependent: Snapshot, ref: Mapping[str, Any]) -> str:
        """The owner is "solid" (exists), "waiting" (deleted in the foreground) or "absent"."""
        uid = str(ref.get("uid", ""))
        key = self.uids.get(uid)
        if key is not None:
            _res, informer, namespace, name = self._lookup(key)
            owner = informer.cache.get_by_name(name, namespace=namespace)
            if owner is not None:
                return "waiting" if _deleting_with(owner, FOREGROUND) else "solid"
        try:
            owner_res = paths.kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        except LookupError:
            return "solid"  # a kind this server does not know: never guess it away
        namespace = _meta(dependent).get("namespace") if owner_res.namespaced else None
        if owner_res.namespaced and not namespace:
            return "absent"  # a cluster-scoped object cannot be owned by a namespaced one
        try:
            live = await self.client.get(owner_res, str(ref.get("name", "")), namespace=namespace)
        except errors.NotFound:
            return "absent"
        if _meta(live).get("uid") != uid:
            return "absent"  # a namesake replaced the owner
        return "waiting" if _deleting_with(live, FOREGROUND) else "solid"

    async def _get(self, res: Resource, obj: Mapping[str, Any]) -> JSON:
        meta = _meta(obj)
        live = await self.client.get(res, str(meta["name"]), namespace=meta.get("namespace"))
        if _meta(live).get("uid") != meta.get("uid"):
            raise errors.NotFound(404, "NotFound", f"{res.plural} {meta['name']} was replaced")
        return live

    async def _delete_if_still_owned(
        self, res: Resource, obj: Snapshot, owner_uid: str | None, policy: str
    ) -> None:
        """Delete `obj` if its live copy still says what the cache said: owned by `owner_uid`, or (None)
        owned only by owners that are gone or waiting for it."""
        try:
            live = await self._get(res, obj)
        except errors.NotFound:
            return
        if _meta(live).get("deletionTimestamp"):
            return  # already being deleted (by another worker, or with its own policy)
        live_refs = {str(r.get("uid")) for r in _meta(live).get("ownerReferences") or ()}
        if owner_uid is not None and owner_uid not in live_refs:
            return
        if owner_uid is None:
            for ref in _meta(live).get("ownerReferences") or ():
                if await self._owner_state(live, ref) == "solid":
                    self.controller.queue.add(graph_key(res, obj))  # the cache lagged: look again
                    return
        meta = _meta(live)
        log.info(
            "garbage collector: deleting %s %s/%s (%s)",
            res.plural,
            meta.get("namespace", ""),
            meta["name"],
            policy,
        )
        try:
            await self.client.delete(
                res,
                str(meta["name"]),
                namespace=meta.get("namespace"),
                propagation_policy=policy,
                precondition_uid=str(meta["uid"]),
                precondition_resource_version=str(meta.get("resourceVersion", "")) or None,
            )
        except errors.NotFound:
            return

    async def _drop_references(self, res: Resource, obj: Snapshot, uids: set[str]) -> None:
        try:
            live = thaw(await self._get(res, obj))
        except errors.NotFound:
            return
        refs = live["metadata"].get("ownerReferences") or []
        live["metadata"]["ownerReferences"] = [r for r in refs if str(r.get("uid")) not in uids]
        await self.client.update(res, live)

    async def _remove_finalizer(self, res: Resource, obj: Snapshot, finalizer: str) -> None:
        try:
            live = thaw(await self._get(res, obj))
        except errors.NotFound:
            return
        finalizers = live["metadata"].get("finalizers") or []
        if finalizer in finalizers:
            live["metadata"]["finalizers"] = [f for f in finalizers if f != finalizer]
            await self.client.update(res, live)


def new_controller(ctx: ControllerContext) -> GarbageCollector:
    return GarbageCollector(ctx)
