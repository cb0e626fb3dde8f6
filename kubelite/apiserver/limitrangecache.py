"""The LimitRanges of a namespace, for LimitRanger admission, without a store read per pod.

Like upstream's live lookup cache: a namespace's list is read from the store once and kept for `ttl`
seconds, so a burst of pod creates (in namespaces with or without LimitRanges) costs one store list per
namespace per half minute. Every LimitRange write admitted by this server drops its namespace's entry and
keeps it uncached for `settle` seconds, long enough for the write to reach the store, so a LimitRange
created (or deleted) here applies to the very next pod. Changes made through another server sharing the
store are seen once the entry expires.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson

from kubelite.apiserver.resource import ApiResource
from kubelite.store import Store

TTL = 30.0
SETTLE = 5.0
MAX_ENTRIES = 10_000


class LimitRangeSource:
    def __init__(
        self,
        store: Store,
        resource: ApiResource,
        *,
        ttl: float = TTL,
        settle: float = SETTLE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._resource = resource
        self._ttl = ttl
        self._settle = settle
        self._clock = clock
        self._entries: dict[str, tuple[float, list[dict[str, Any]]]] = {}  # namespace -> (expiry, items)
        self._unsettled: dict[str, float] = {}  # namespace -> when its last LimitRange write has settled
        self._loading: dict[str, asyncio.Future[list[dict[str, Any]]]] = {}

    def note_write(self, namespace: str) -> None:
        """A LimitRange in `namespace` is about to change: read the store until the change has landed."""
        self._entries.pop(namespace, None)
        self._unsettled[namespace] = self._clock() + self._settle

    async def get(self, namespace: str) -> list[dict[str, Any]]:
        """The namespace's LimitRanges, oldest name first. Callers must not change them."""
        now = self._clock()
        entry = self._entries.get(namespace)
        if entry is not None and entry[0] > now:
            return entry[1]
        if self._unsettled.get(namespace, 0.0) > now:
            return await self._list(namespace)
        loading = self._loading.get(namespace)
        if loading is not None:
            # Another request is listing this namespace: share its answer (on its failure, try alone).
            try:
                return await asyncio.shield(loading)
            except Exception:
                return await self._list(namespace)
        return await self._load(namespace)

    async def _load(self, namespace: str) -> list[dict[str, Any]]:
        future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self._loading[namespace] = future
        try:
            items = await self._list(namespace)
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            future.exception()  # waiters (if any) retry on their own; nobody else needs to see it
            raise
        finally:
            del self._loading[namespace]
        future.set_result(items)
        now = self._clock()
        if self._unsettled.get(namespace, 0.0) <= now:
            self._unsettled.pop(namespace, None)
            self._remember(namespace, now + self._ttl, items)
        return items

    def _remember(self, namespace: str, expiry: float, items: list[dict[str, Any]]) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            now = self._clock()
            self._entries = {ns: e for ns, e in self._entries.items() if e[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        self._entries[namespace] = (expiry, items)

    async def _list(self, namespace: str) -> list[dict[str, Any]]:
        result = await self._store.list(self._resource.list_prefix(namespace))
        return [orjson.loads(kv.value) for kv in result.items]
