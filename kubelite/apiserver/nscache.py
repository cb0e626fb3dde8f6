"""An in-memory copy of one key prefix (namespaces, service accounts) that admission reads on every request.

Without it each admitted request did a store read (a thread-pool hop into SQLite) just to learn that its
namespace exists. The cache lists the prefix once, then follows a store watch from that revision; a cut or
expired watch re-lists. Writes made through this server are applied synchronously by `WriteThroughStore`,
so a namespace this server just marked Terminating is seen at once; the watch covers other servers sharing
the store. A miss is never trusted: `get` falls back to the store, so a namespace created a moment ago
(by any server) is still found, and before the first list completes every read goes to the store. (The
server's lookups send misses to the watch cache instead, whose consistent answer needs no store read.)
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.store import (
    EventType,
    Expired,
    KeyValue,
    ListResult,
    NotFound,
    Store,
    StoreError,
    Watch,
    WatchCutOff,
)

log = logging.getLogger(__name__)

RETRY_DELAY = 1.0  # seconds between attempts when the store itself fails


class PrefixCache:
    """Latest known value per key under `prefix`; a deleted key keeps a tombstone (value None) until the
    watch reports that delete, so an older watch event can never bring it back."""

    def __init__(self, store: Store, prefix: str) -> None:
        self._store = store
        self._prefix = prefix
        self._entries: dict[str, tuple[int, KeyValue | None]] = {}
        self._synced = False
        self._task: asyncio.Task[None] | None = None

    @property
    def synced(self) -> bool:
        return self._synced

    async def start(self) -> None:
        """List the prefix (so the cache is synced when this returns), then follow it in the background."""
        revision = await self._relist()
        self._task = asyncio.create_task(self._follow(revision), name=f"cache {self._prefix}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._synced = False

    def peek(self, key: str) -> KeyValue | None:
        """The key's value if the cache holds it (None: unknown here, not necessarily absent)."""
        entry = self._entries.get(key) if self._synced else None
        return None if entry is None else entry[1]

    async def get(self, key: str) -> KeyValue | None:
        """The key's value, from memory when present; a miss (or an unsynced cache) reads the store."""
        kv = self.peek(key)
        if kv is not None:
            return kv
        try:
            # Not recorded: a delete may have been applied while this read was in flight. The watch brings it.
            return await self._store.get(key)
        except NotFound:
            return None

    def record(self, key: str, revision: int, kv: KeyValue | None, *, from_watch: bool = False) -> None:
        """Apply a change seen at `revision` (kv None: deleted) unless something newer is already known.
        A delete reported by the watch needs no tombstone: the watch delivers nothing older after it."""
        current = self._entries.get(key)
        if current is not None and current[0] > revision:
            return
        if kv is None and from_watch:
            self._entries.pop(key, None)
            return
        self._entries[key] = (revision, kv)

    def record_update(self, key: str, revision: int, value: bytes) -> None:
        """An update's new value; its create revision comes from the cached entry (without one the next
        read goes to the store anyway, so there is nothing stale to replace)."""
        entry = self._entries.get(key)
        if entry is not None and entry[1] is not None:
            self.record(key, revision, KeyValue(key, value, entry[1].create_revision, revision))

    async def _relist(self) -> int:
        entries: dict[str, tuple[int, KeyValue | None]] = {}
        page = ListResult([], 0, True)
        while page.more:
            after = page.items[-1].key if page.items else ""
            page = await self._store.list(self._prefix, start_after=after, revision=page.revision, limit=500)
            entries.update((kv.key, (kv.mod_revision, kv)) for kv in page.items)
        # Writes applied through this server after the list's revision stay; the watch repeats them anyway.
        for key, entry in self._entries.items():
            if entry[0] > page.revision:
                entries[key] = entry
        self._entries = entries
        self._synced = True
        return page.revision

    async def _follow(self, revision: int) -> None:
        while True:
            try:
                revision = await self._watch_from(revision)
            except (Expired, WatchCutOff) as exc:
                log.info("re-listing %s: %s", self._prefix, exc)
            except StoreError as exc:
                log.warning("watch on %s failed, re-listing: %s", self._prefix, exc)
                await asyncio.sleep(RETRY_DELAY)
            else:
                # The watch ended quietly (the store reconnecting): resume where it was, without spinning.
                await asyncio.sleep(RETRY_DELAY)
                continue
            revision = await self._relist_until_done()

    async def _relist_until_done(self) -> int:
        while True:
            try:
                return await self._relist()
            except StoreError as exc:
                log.warning("cannot list %s: %s", self._prefix, exc)
                await asyncio.sleep(RETRY_DELAY)

    async def _watch_from(self, revision: int) -> int:
        watch = self._store.watch(self._prefix, after_revision=revision)
        try:
            async for event in watch:
                deleted = event.type is EventType.DELETED
                self.record(event.kv.key, event.revision, None if deleted else event.kv, from_watch=True)
                revision = event.revision
        finally:
            await watch.close()
        return revision


class WriteThroughStore:
    """The store as a registry sees it, telling `cache` about each write the moment the store accepts it."""

    def __init__(self, store: Store, cache: PrefixCache) -> None:
        self._store = store
        self._cache = cache

    async def get(self, key: str) -> KeyValue:
        return await self._store.get(key)

    async def list(
        self, prefix: str, *, limit: int = 0, start_after: str = "", revision: int = 0
    ) -> ListResult:
        return await self._store.list(prefix, limit=limit, start_after=start_after, revision=revision)

    async def create(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        revision = await self._store.create(key, value, ttl=ttl)
        self._cache.record(key, revision, KeyValue(key, value, revision, revision))
        return revision

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, ttl: float | None = None
    ) -> int:
        revision = await self._store.update(key, value, expected_revision=expected_revision, ttl=ttl)
        self._cache.record_update(key, revision, value)
        return revision

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        kv = await self._store.delete(key, expected_revision=expected_revision)
        self._cache.record(key, kv.mod_revision, None)
        return kv

    def watch(self, prefix: str, *, after_revision: int) -> Watch:
        return self._store.watch(prefix, after_revision=after_revision)

    async def current_revision(self) -> int:
        return await self._store.current_revision()

    async def compact(self, revision: int) -> None:
        await self._store.compact(revision)

    async def close(self) -> None:
        await self._store.close()
