"""The embedded store (`sqlite://PATH`): kubelite's default, one SQLite file in WAL mode.

The pieces: one writer thread doing compare-and-swap with group commit (sqlite_writer), a few reader
threads (sqlite_reads), the in-memory broadcaster serving watches (broadcast), the TTL reaper (sqlite_ttl)
and the compaction policy (compactor). This module wires them into base.Store and keeps the event-loop
side of the state: the published and compact revisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from kubelite.store.base import (
    Event,
    FutureRevision,
    KeyValue,
    ListResult,
    NotFound,
    StoreError,
    Unavailable,
    Watch,
)
from kubelite.store.broadcast import Broadcaster
from kubelite.store.compactor import Compactor
from kubelite.store.sqlite_db import Opened, open_database, unlock
from kubelite.store.sqlite_reads import Readers, events_between, get_latest, list_at
from kubelite.store.sqlite_ttl import Reaper
from kubelite.store.sqlite_writer import Committed, OpKind, WriteOp, Writer

log = logging.getLogger(__name__)

Events = list[Event]  # spelled here because the class's `list` method shadows the builtin

FUTURE_REVISION_WAIT = 1.5  # seconds a read at a future revision waits for the writer to get there
CLOSE_TIMEOUT = 5.0


class SQLiteStore:
    """Implements base.Store. Construct with `await SQLiteStore.open(path)`."""

    def __init__(self, path: str, opened: Opened) -> None:
        self._lock_fd = opened.lock_fd
        self._loop = asyncio.get_running_loop()
        self._broadcaster = Broadcaster(opened.revision)
        self._compact_revision = opened.compact_revision
        self._compact_lock = asyncio.Lock()
        self._writer = Writer(
            opened.writer, revision=opened.revision, loop=self._loop, on_commit=self._committed
        )
        self._readers = Readers(path)
        self._reaper = Reaper(self._expire, expiring=opened.expiring)
        self._closed = False
        self._writer.start()
        self._tasks = [
            asyncio.create_task(self._reaper.run(), name=f"sqlite-ttl-reaper {path}"),
            asyncio.create_task(Compactor(self).run(), name=f"sqlite-compactor {path}"),
        ]
        if opened.compact_scanned < opened.compact_revision:
            # A compaction was interrupted (crash or shutdown): finish it.
            resume = self.compact(opened.compact_revision)
            self._tasks.append(asyncio.create_task(resume, name=f"sqlite-compaction {path}"))

    @classmethod
    async def open(cls, path: str) -> SQLiteStore:
        """Open (creating if needed) the database at path; Unavailable if it is unusable."""
        path = path.partition("?")[0]  # k3s-style endpoints may carry driver options; none apply here
        if not path or path == ":memory:":
            raise Unavailable(f"sqlite:// needs a file path, not {path!r}")
        opened = await asyncio.to_thread(open_database, path)
        log.info("opened %s at revision %d", path, opened.revision)
        return cls(path, opened)

    # ---- reads

    async def get(self, key: str) -> KeyValue:
        kv = await self._readers.run(get_latest, key, time.time())
        if kv is None:
            raise NotFound(f"key {key!r} not found")
        return kv

    async def list(
        self, prefix: str, *, limit: int = 0, start_after: str = "", revision: int = 0
    ) -> ListResult:
        await self._wait_for_revision(revision)
        # Reading at the published revision makes the result's revision one a watch can start from.
        at = revision or self._broadcaster.revision
        # Expired keys are hidden by wall-clock time even before the reaper records their deletion.
        items, more = await self._readers.run(list_at, prefix, start_after, limit, at, time.time())
        return ListResult(items=items, revision=at, more=more)

    async def _wait_for_revision(self, revision: int) -> None:
        if revision > self._broadcaster.revision and not await self._broadcaster.wait_for(
            revision, max_wait=FUTURE_REVISION_WAIT
        ):
            current = self._broadcaster.revision
            raise FutureRevision(f"Too large resource version: {revision}, current: {current}", current)

    async def current_revision(self) -> int:
        return self._broadcaster.revision

    def watch(self, prefix: str, *, after_revision: int) -> Watch:
        return self._broadcaster.watch(
            prefix,
            after_revision=after_revision or self._broadcaster.revision,
            read_events=self._read_events,
            compact_revision=self._compact_revision,
        )

    async def _read_events(self, prefix: str, after: int, upto: int, limit: int) -> Events:
        return await self._readers.run(events_between, prefix, after, upto, limit)

    # ---- writes

    async def create(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        result: int = await self._write(OpKind.CREATE, key=key, value=value, expiry=_expiry(ttl))
        return result

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, ttl: float | None = None
    ) -> int:
        result: int = await self._write(
            OpKind.UPDATE, key=key, value=value, expected_revision=expected_revision, expiry=_expiry(ttl)
        )
        return result

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        result: KeyValue = await self._write(OpKind.DELETE, key=key, expected_revision=expected_revision)
        return result

    async def _expire(self, key: str) -> None:
        await self._write(OpKind.EXPIRE, key=key)

    async def compact(self, revision: int) -> None:
        async with self._compact_lock:
            current = self._broadcaster.revision
            if revision > current:
                message = f"cannot compact at future revision {revision} (current {current})"
                raise FutureRevision(message, current)
            # Each step is one short transaction of the writer, interleaved with ordinary writes.
            reached: int = await self._write(OpKind.COMPACT, expected_revision=revision)
            self._compact_revision = max(self._compact_revision, revision)
            while reached < revision:
                reached = await self._write(OpKind.COMPACT, expected_revision=revision)

    async def _write(self, kind: OpKind, **fields: Any) -> Any:
        if self._closed:
            raise Unavailable("store is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        self._writer.submit(WriteOp(kind, future, **fields))
        return await future

    def _committed(self, done: Committed) -> None:
        """On the event loop, once per batch: publish first, so a writer that then watches from its own
        revision finds it, and then wake the writers."""
        if done.events:
            self._broadcaster.publish(done.events)
        for key, revision, expiry in done.expiries:
            self._reaper.note(key, revision, expiry)
        for future, outcome in done.outcomes:
            if future.done():  # the caller was cancelled; the write stands regardless
                continue
            if isinstance(outcome, StoreError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writer.stop()
        try:
            await asyncio.wait_for(asyncio.shield(self._writer.stopped), CLOSE_TIMEOUT)
        except TimeoutError:
            log.warning("SQLite writer did not stop within %.0fs", CLOSE_TIMEOUT)
        self._broadcaster.close()
        await asyncio.to_thread(self._readers.close)
        with contextlib.suppress(OSError):
            unlock(self._lock_fd)


def _expiry(ttl: float | None) -> float | None:
    return None if ttl is None else time.time() + ttl
