"""The quota controller: every ResourceQuota's status says its limits (status.hard = spec.hard) and what the
namespace really uses (status.used), recounted from the objects that exist.

Admission reserves usage as objects are created; this controller gives it back. A namespace's quotas are
recounted when a quota's limits change, when a pod finishes or goes, when an object of another kind a quota
counts is deleted, on start-up and every `resync` seconds (which also returns reservations whose object was
never stored). Counts
come from fresh lists, not informer caches, so an object just created is never missed.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from kubelite.api import quota, resources
from kubelite.api.quantity import Quantity
from kubelite.api.resources import Resource
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller
from kubelite.client.frozen import thaw
from kubelite.controllers.context import ControllerContext

QUOTAS = paths.resource("", "v1", "resourcequotas")
PODS = paths.resource("", "v1", "pods")
# Watched from the start for prompt replenishment; other counted kinds once a quota names them.
_REPLENISHED = [paths.resource("", "v1", p) for p in ("services", "persistentvolumeclaims", "configmaps")]
_COUNTED = ("pods", "services", "persistentvolumeclaims", "configmaps", "secrets", "replicationcontrollers",
            "resourcequotas")  # fmt: skip
DEFAULT_RESYNC = 300.0  # upstream's --resource-quota-sync-period


def _namespace(obj: Snapshot) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def _counted_resources(hard: Iterable[str]) -> list[Resource]:
    """The resources some of these quota names count: the core kinds with evaluators, then any other
    `count/<plural>[.<group>]` (a resource kubelite does not serve counts nothing)."""
    names = list(hard)
    found = [
        r for p in _COUNTED if quota.matching_resources("", p, names) and (r := paths.resource("", "v1", p))
    ]
    for name in names:
        if not name.startswith("count/"):
            continue
        plural, _, group = name.removeprefix("count/").partition(".")
        match = next((r for r in resources.RESOURCES if (r.group, r.plural) == (group, plural)), None)
        if match is not None and match not in found:
            found.append(match)
    return found


class ResourceQuotaController:
    def __init__(self, ctx: ControllerContext, *, resync: float = DEFAULT_RESYNC) -> None:
        self.client = ctx.client
        self.informers = ctx.informers
        self.resync = resync
        self.quotas = ctx.informers.informer(QUOTAS)
        self.controller = Controller("resourcequota", self.reconcile, workers=2)
        self.controller.watch(self.quotas, keys=self._limits_changed)
        pods = ctx.informers.informer(PODS)
        pods.add_handlers(on_update=self._pod_updated, on_delete=self._replenish)
        self._watched = {PODS, QUOTAS}
        for res in _REPLENISHED:
            self._watch_deletes(res)

    def _watch_deletes(self, res: Resource) -> None:
        """A deleted object of `res` gives its quota back now rather than at the next resync."""
        if res not in self._watched:
            self._watched.add(res)
            self.informers.informer(res).add_handlers(on_delete=self._replenish)

    def _limits_changed(self, obj: Snapshot) -> Iterable[str]:
        """Admission's own status writes leave hard as it was and must not trigger a recount."""
        hard, wanted = (quota.parse_list((obj.get(part) or {}).get("hard")) for part in ("status", "spec"))
        same = {n: q.value for n, q in hard.items()} == {n: q.value for n, q in wanted.items()}
        return () if same else (_namespace(obj),)

    def _replenish(self, obj: Snapshot) -> None:
        namespace = _namespace(obj)
        if self.quotas.cache.list(namespace=namespace):
            self.controller.queue.add(namespace)

    def _pod_updated(self, old: Snapshot, new: Snapshot) -> None:
        now = datetime.datetime.now(datetime.UTC)
        if quota.pod_counts(old, now) and not quota.pod_counts(new, now):
            self._replenish(new)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.controller.run())
            tasks.create_task(self._resync())

    async def _resync(self) -> None:
        """Recount every namespace with quotas now (start-up) and every `resync` seconds."""
        await self.quotas.synced.wait()
        while True:
            for namespace in {_namespace(q) for q in self.quotas.cache.list()}:
                self.controller.queue.add(namespace)
            await asyncio.sleep(self.resync)

    async def reconcile(self, key: str) -> None:
        """`key` is a namespace: recount all its quotas from one fresh list per counted resource."""
        quotas = self.quotas.cache.list(namespace=key)
        if not quotas:
            return
        hard_names = {n for q in quotas for n in ((q.get("spec") or {}).get("hard") or {})}
        listed: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for res in _counted_resources(hard_names):
            self._watch_deletes(res)
            try:
                page = await self.client.list_all(res, namespace=key)
            except errors.NotFound:
                continue
            listed[(res.group, res.plural)] = page.get("items") or []
        now = datetime.datetime.now(datetime.UTC)
        for found in quotas:
            await self._write(found, self._used(found, listed, now))

    @staticmethod
    def _used(
        found: Snapshot, listed: dict[tuple[str, str], list[dict[str, Any]]], now: datetime.datetime
    ) -> dict[str, str]:
        hard = list(((found.get("spec") or {}).get("hard") or {}).keys())
        used: quota.Usage = dict.fromkeys(hard, Quantity(Fraction(0)))
        for (group, plural), items in listed.items():
            names = quota.matching_resources(group, plural, hard)
            if not names:
                continue
            for item in items:
                if quota.matches_scopes(group, plural, found, item):
                    usage = quota.usage(group, plural, item, now)
                    used = quota.add(used, {n: usage[n] for n in names if n in usage})
        return quota.render(used)

    async def _write(self, found: Snapshot, used: dict[str, str]) -> None:
        spec_hard = quota.render(quota.parse_list((found.get("spec") or {}).get("hard")))
        status = found.get("status") or {}
        if status.get("hard") == spec_hard and status.get("used") == used:
            return
        updated: dict[str, Any] = thaw(found)
        updated["status"] = {"hard": spec_hard, "used": used}
        try:
            await self.client.update(QUOTAS, updated, subresource="status")
        except errors.NotFound:
            return  # deleted meanwhile
        # A Conflict (admission reserved meanwhile) propagates: the namespace is recounted after a backoff.


def new_controller(ctx: ControllerContext) -> ResourceQuotaController:
    return ResourceQuotaController(ctx)
