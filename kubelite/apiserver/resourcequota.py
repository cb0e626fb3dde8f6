"""ResourceQuota admission, as upstream: a write that would take a namespace past one of its quotas fails.

For each quota of the namespace whose status knows its hard limits and whose scopes select the object: the
object must satisfy the quota's constraints (`failed quota: q: must specify ...`), and its usage added to
status.used must stay within status.hard (`exceeded quota: q, requested: pods=1, used: pods=2, limited:
pods=2`). The new usage is reserved by a compare-and-swap write of each quota's status BEFORE the object is
stored, so racing creates can never both take the last unit; a reservation whose object then fails to be
stored is given back by the quota controller's next recount (upstream does the same). Within this server
one lock per namespace keeps the compare-and-swap from spinning; across servers the store arbitrates.
"""

from __future__ import annotations

import asyncio
import datetime
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api import quota
from kubelite.api.quantity import Quantity
from kubelite.apiserver import errors
from kubelite.apiserver.chain import AdmissionRequest
from kubelite.apiserver.context import ServerContext
from kubelite.apiserver.registry import Registry
from kubelite.store import Conflict, KeyValue, NotFound

_ATTEMPTS = 10


@dataclass(slots=True)
class _Charge:
    obj: dict[str, Any]
    kv: KeyValue
    used: quota.Usage


def _pretty(usage: Mapping[str, Quantity], names: list[str]) -> str:
    return ",".join(f"{n}={v}" for n, v in quota.render({n: usage[n] for n in names if n in usage}).items())


class ResourceQuotaAdmission:
    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx
        # Per namespace; a lock lives while some request holds or awaits it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _quotas(self) -> Registry | None:
        return self._ctx.registry("", "v1", "resourcequotas")

    async def admit(self, request: AdmissionRequest) -> None:
        info = request.info
        if info.subresource or not request.namespace or request.obj is None:
            return
        if not quota.handles(info.group, info.resource, request.operation):
            return
        registry = self._quotas()
        if registry is None:
            return
        if not await self._any_quota(registry, request.namespace):
            return  # the common case: no quota, no lock
        lock = self._locks.get(request.namespace)
        if lock is None:
            lock = self._locks[request.namespace] = asyncio.Lock()
        async with lock:
            await self._reserve(registry, request)

    @staticmethod
    async def _any_quota(registry: Registry, namespace: str) -> bool:
        prefix = registry.resource.list_prefix(namespace)
        cached = await registry.cache.consistent(registry.resource.storage_prefix) if registry.cache else None
        if cached is not None:
            return bool(cached.range(prefix))
        return bool((await registry.store.list(prefix, limit=1)).items)

    async def _reserve(self, registry: Registry, request: AdmissionRequest) -> None:
        charged: set[str] = set()  # quotas already updated by an earlier attempt
        for _attempt in range(_ATTEMPTS):
            listing = await registry.store.list(registry.resource.list_prefix(request.namespace))
            quotas = [(registry.decode(kv), kv) for kv in listing.items]
            pending = [(q, kv) for q, kv in quotas if q["metadata"]["name"] not in charged]
            charges = self._evaluate(request, pending)
            if not charges or request.dry_run:
                return
            for charge in charges:
                charge.obj.setdefault("status", {})["used"] = quota.render(charge.used)
                try:
                    await registry.store.update(
                        charge.kv.key, registry.encode(charge.obj), expected_revision=charge.kv.mod_revision
                    )
                except (Conflict, NotFound):
                    break  # changed under us: look again at what is left
                charged.add(charge.obj["metadata"]["name"])
            else:
                return
        raise errors.forbidden(request.res, request.name, "resource quota evaluation timed out")

    def _evaluate(
        self, request: AdmissionRequest, quotas: list[tuple[dict[str, Any], KeyValue]]
    ) -> list[_Charge]:
        """The quotas to charge with their new usage; raises Forbidden when one would be exceeded."""
        group, plural = request.info.group, request.info.resource
        obj = request.obj
        assert obj is not None
        interesting: list[tuple[dict[str, Any], KeyValue, list[str]]] = []
        for found, kv in quotas:
            name = found["metadata"]["name"]
            status = found.get("status") or {}
            restricted = quota.matching_resources(group, plural, (status.get("hard") or {}).keys())
            if not restricted or not quota.matches_scopes(group, plural, found, obj):
                continue
            if (problem := quota.constraints(group, plural, restricted, obj)) is not None:
                raise errors.forbidden(request.res, request.name, f"failed quota: {name}: {problem}")
            unknown = sorted(set(restricted) - set(status.get("used") or {}))
            if unknown:
                why = f"status unknown for quota: {name}, resources: {','.join(unknown)}"
                raise errors.forbidden(request.res, request.name, why)
            interesting.append((found, kv, restricted))
        if not interesting:
            return []
        delta = self._delta(request)
        if not delta:
            return []
        if (group, plural) != ("", "services"):  # (a Service is only valid once its addresses are allocated)
            # Upstream validates before quota admission: an invalid object must not take quota.
            self._ctx.registry_for(request.info).check_semantics(obj, request.old)
        charges = []
        for found, kv, _restricted in interesting:
            status = found["status"]
            hard = quota.parse_list(status.get("hard"))
            used = quota.parse_list(status.get("used"))
            requested = {n: v for n, v in delta.items() if n in hard}
            if not requested:
                continue
            new_used = quota.add(used, requested)
            exceeded = sorted(n for n in requested if new_used[n].value > hard[n].value)
            if exceeded:
                name = found["metadata"]["name"]
                why = (
                    f"exceeded quota: {name}, requested: {_pretty(requested, exceeded)}, "
                    f"used: {_pretty(used, exceeded)}, limited: {_pretty(hard, exceeded)}"
                )
                raise errors.forbidden(request.res, request.name, why)
            charges.append(_Charge(found, kv, new_used))
        return charges

    @staticmethod
    def _delta(request: AdmissionRequest) -> quota.Usage:
        """What the write adds: the new object's usage less the old one's, never below zero per name."""
        group, plural = request.info.group, request.info.resource
        now = datetime.datetime.now(datetime.UTC)
        assert request.obj is not None
        delta = quota.usage(group, plural, request.obj, now)
        if negative := sorted(n for n, v in delta.items() if v.value < 0):
            why = f"quota usage is negative for resource(s): {','.join(negative)}"
            raise errors.forbidden(request.res, request.name, why)
        if request.operation == "UPDATE" and request.old is not None:
            old = quota.usage(group, plural, request.old, now)
            delta = {
                n: Quantity(v.value - old[n].value, v.notation) if n in old else v for n, v in delta.items()
            }
        return {n: v for n, v in delta.items() if v.value > 0}
