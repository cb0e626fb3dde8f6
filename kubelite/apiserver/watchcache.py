"""An in-memory copy of the stored objects, kept current by one store watch, that serves consistent GETs and
LISTs without a store read (upstream's watch cache with consistent reads from cache).

The cache lists every cached resource's prefix at one revision, then follows a single watch on the whole
store (not only `/registry/`: another program may share an etcd), so every store revision arrives as an
event and `revision` is the revision the cached state is exactly at. A read is served from memory only when
the cache is synced and has seen the store's current revision (waiting briefly for it), so a read after a
write — by anyone — sees it; otherwise the caller reads the store. Resources whose keys expire by time
(Events) are not cached: the store hides an expired key before its delete event exists.

Each entry keeps the stored KeyValue and, computed once on first use, the object's JSON as served
(resourceVersion included) and its decoded form for selectors. Both are shared and never mutated.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Iterable
from typing import Any

import orjson

from kubelite.store import EventType, Expired, KeyValue, ListResult, Store, StoreError, WatchCutOff

log = logging.getLogger(__name__)

KEYSPACE = ""  # every key: writes by other programs sharing an etcd advance the revision too
CONSISTENT_WAIT = 1.0  # seconds a read waits for the cache to reach the store's revision (then: the store)
RETRY_DELAY = 1.0
_LIST_PAGE = 1000


def decode(kv: KeyValue) -> dict[str, Any]:
    """A stored object as the API serves it: resourceVersion is the key's mod_revision."""
    obj: dict[str, Any] = orjson.loads(kv.value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
    return obj


class Entry:
    __slots__ = ("_json", "_obj", "kv")

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv
        self._json: bytes | None = None
        self._obj: dict[str, Any] | None = None

    def obj(self) -> dict[str, Any]:
        """The decoded object, shared: read it, never change it."""
        if self._obj is None:
            self._obj = decode(self.kv)
        return self._obj

    def json(self) -> bytes:
        if self._json is None:
            self._json = orjson.dumps(self.obj() if self._obj is not None else decode(self.kv))
        return self._json


class ResourceCache:
    """The entries of one resource's storage prefix, with their keys sorted on demand for ranges."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self._sorted: list[str] | None = None

    def put(self, kv: KeyValue) -> None:
        if kv.key not in self.entries:
            self._sorted = None
        self.entries[kv.key] = Entry(kv)

    def remove(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            self._sorted = None

    def range(self, prefix: str, start_after: str = "") -> list[Entry]:
        """Entries whose keys start with prefix (and sort after start_after), in key order."""
        if self._sorted is None:
            self._sorted = sorted(self.entries)
        keys = self._sorted
        lo = bisect.bisect_left(keys, prefix)
        if start_after:
            lo = max(lo, bisect.bisect_right(keys, start_after))
        out = []
        for key in keys[lo:]:
            if not key.startswith(prefix):
                break
            out.append(self.entries[key])
        return out


def resource_prefix(key: str) -> str:
    """`/registry/<group>/<plural>/` of a key."""
    parts = key.split("/", 4)
    return "/".join(parts[:4]) + "/" if len(parts) == 5 else ""


class WatchCache:
    def __init__(self, store: Store, prefixes: Iterable[str]) -> None:
        self._store = store
        self._prefixes = tuple(prefixes)
        self._resources: dict[str, ResourceCache] = {}
        self.revision = 0
        self._synced = False
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    def caches(self, prefix: str) -> bool:
        return prefix in self._prefixes

    async def start(self) -> None:
        """List (the cache is synced when this returns), then follow the store in the background."""
        await self._relist()
        self._task = asyncio.create_task(self._follow(), name="watch cache")

    async def stop(self) -> None:
        self._synced = False
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def consistent(self, prefix: str) -> ResourceCache | None:
        """The resource's cache once it holds the store's current state; None: read the store instead."""
        if not self._synced or prefix not in self._prefixes or self._task is None or self._task.done():
            return None  # not following the store (never started, stopped, or its task failed)
        try:
            wanted = await self._store.current_revision()
        except StoreError:
            return None  # the store path then answers with the error mapped to its Status (503/504)
        if self.revision < wanted:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append((wanted, waiter))
            try:
                async with asyncio.timeout(CONSISTENT_WAIT):
                    await waiter
            except TimeoutError:
                return None
            finally:
                self._waiters = [(r, w) for r, w in self._waiters if w is not waiter]
        return self._resources.get(prefix) if self._synced else None

    # --- keeping current ----------------------------------------------------------------------------
    async def _relist(self) -> None:
        self._synced = False
        resources = {prefix: ResourceCache() for prefix in self._prefixes}
        revision = 0
        for prefix, cache in resources.items():
            page = ListResult([], revision, True)
            while page.more:
                after = page.items[-1].key if page.items else ""
                page = await self._store.list(
                    prefix, start_after=after, revision=page.revision, limit=_LIST_PAGE
                )
                for kv in page.items:
                    cache.put(kv)
            revision = page.revision
        self._resources = resources
        self._advance(revision)
        self._synced = True

    def _advance(self, revision: int) -> None:
        self.revision = revision
        if self._waiters:
            for wanted, waiter in self._waiters:
                if wanted <= revision and not waiter.done():
                    waiter.set_result(None)

    async def _follow(self) -> None:
        while True:
            try:
                await self._watch()
            except (Expired, WatchCutOff) as exc:
                log.info("watch cache re-lists: %s", exc)
            except StoreError as exc:
                log.warning("watch cache: the watch failed, re-listing: %s", exc)
                self._synced = False
                await asyncio.sleep(RETRY_DELAY)
            else:
                await asyncio.sleep(RETRY_DELAY)  # the watch ended quietly (a store reconnecting): resume
                continue
            await self._relist_until_done()

    async def _relist_until_done(self) -> None:
        while True:
            try:
                return await self._relist()
            except StoreError as exc:
                log.warning("watch cache cannot list: %s", exc)
                await asyncio.sleep(RETRY_DELAY)

    async def _watch(self) -> None:
        watch = self._store.watch(KEYSPACE, after_revision=self.revision)
        try:
            # After an empty store's list, revision 0 means "from now" to the store: a write that landed
            # between the list and the watch would be missed, so list again if there was one.
            if self.revision == 0 and await self._store.current_revision() > 0:
                raise WatchCutOff("the store was written to before the cache's watch began")
            async for event in watch:
                cache = self._resources.get(resource_prefix(event.kv.key))
                if cache is not None:
                    if event.type is EventType.DELETED:
                        cache.remove(event.kv.key)
                    else:
                        cache.put(event.kv)
                self._advance(event.revision)
        finally:
            await watch.close()


class RecentEntries:
    """Entries of recent watch events by (key, revision), so that every watcher of an event shares one
    decode and one encoding of it."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._entries: dict[tuple[str, int], Entry] = {}

    def get(self, kv: KeyValue) -> Entry:
        found = self._entries.get((kv.key, kv.mod_revision))
        if found is None:
            found = self._entries[(kv.key, kv.mod_revision)] = Entry(kv)
            if len(self._entries) > self._size:
                del self._entries[next(iter(self._entries))]
        return found
