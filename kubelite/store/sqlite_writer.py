"""The embedded store's single writer thread: compare-and-swap per operation, group commit per batch.

Every write goes through one thread owning one connection, fed by a queue. The thread takes everything
queued, applies each operation in one transaction and commits once (one fsync for the whole batch), then
hands the outcomes and the batch's events back to the event loop in a single call, in revision order. A
failed compare-and-swap fails only its own operation; a SQL error rolls back and fails the whole batch.
Being the only writer, the thread allocates revisions from a counter.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kubelite.store.base import (
    AlreadyExists,
    Conflict,
    Event,
    EventType,
    KeyValue,
    NotFound,
    StoreError,
    Unavailable,
)
from kubelite.store.sqlite_db import COMPACT_REVISION, COMPACT_SCANNED, LATEST

log = logging.getLogger(__name__)

MAX_BATCH = 1000
COMPACT_BATCH = 1000  # rows visited per compaction step: keeps each step's hold on the write lock short

GUARDS = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}
INSERT = (
    "INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value, expiry)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class OpKind(enum.Enum):
    CREATE = enum.auto()
    UPDATE = enum.auto()
    DELETE = enum.auto()
    EXPIRE = enum.auto()  # from the TTL reaper: tombstone the key if its TTL has passed
    COMPACT = enum.auto()  # one step of compaction up to expected_revision; returns the row id reached


@dataclass(slots=True)
class WriteOp:
    kind: OpKind
    future: asyncio.Future[Any]
    key: str = ""
    value: bytes = b""
    expected_revision: int = 0
    expiry: float | None = None


@dataclass(slots=True)
class Committed:
    """One batch's results, handed to the event loop after its commit (or failure)."""

    outcomes: list[tuple[asyncio.Future[Any], object]] = field(default_factory=list)  # result or StoreError
    events: list[Event] = field(default_factory=list)
    expiries: list[tuple[str, int, float | None]] = field(default_factory=list)  # (key, revision, expiry)


class _Row(NamedTuple):
    id: int
    deleted: int
    create_revision: int
    value: bytes
    expiry: float | None


class Writer:
    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        revision: int,
        loop: asyncio.AbstractEventLoop,
        on_commit: Callable[[Committed], None],
    ) -> None:
        self._conn = conn
        self._revision = revision
        self._loop = loop
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[WriteOp | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="kubelite-sqlite-writer", daemon=True)
        self.stopped: asyncio.Future[None] = loop.create_future()

    def start(self) -> None:
        self._thread.start()

    def submit(self, op: WriteOp) -> None:
        self._queue.put(op)

    def stop(self) -> None:
        """Finish the queued writes, then close the connection and resolve `stopped`."""
        self._queue.put(None)

    def _run(self) -> None:
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        op = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if op is None:
                        stopping = True
                        break
                    batch.append(op)
                self._commit(batch)
        finally:
            left = Committed()
            while True:
                try:
                    op = self._queue.get_nowait()
                except queue.Empty:
                    break
                if op is not None:
                    left.outcomes.append((op.future, Unavailable("store is closed")))
            if left.outcomes:
                self._hand_back(left)
            self._conn.close()
            self._hand_back_call(_resolve, self.stopped)

    def _commit(self, batch: list[WriteOp]) -> None:
        started_at = self._revision
        done = Committed()
        now = time.time()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for op in batch:
                try:
                    outcome = self._apply(op, done, now)
                except StoreError as e:
                    outcome = e
                done.outcomes.append((op.future, outcome))
            self._conn.execute("COMMIT")
        except Exception as e:  # a SQL error (or a bug) fails the batch, never the thread
            log.error("SQLite write batch of %d failed: %r", len(batch), e)
            self._revision = started_at
            if self._conn.in_transaction:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    log.exception("SQLite rollback failed")
            done = Committed(outcomes=[(op.future, Unavailable(f"SQLite write failed: {e}")) for op in batch])
        self._hand_back(done)

    def _hand_back(self, done: Committed) -> None:
        self._hand_back_call(self._on_commit, done)

    def _hand_back_call(self, fn: Callable[[Any], None], arg: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, arg)
        except RuntimeError:
            pass  # the event loop is closed: nobody is waiting for this any more

    def _apply(self, op: WriteOp, done: Committed, now: float) -> object:
        if op.kind is OpKind.COMPACT:
            return self._compact_step(op.expected_revision)
        key = op.key
        latest = self._latest(key)
        if latest is not None and not latest.deleted and latest.expiry is not None and latest.expiry <= now:
            # The TTL has passed: the key is gone for every operation (reads already hide it), so the
            # first write to touch it records the delete, even if the reaper has not come round yet.
            gone = self._tombstone(key, latest, done)
            latest = _Row(gone.mod_revision, 1, gone.create_revision, b"", None)
        if op.kind is OpKind.EXPIRE:
            return None
        live = latest is not None and not latest.deleted
        if op.kind is OpKind.CREATE:
            if live:
                raise AlreadyExists(f"key {key!r} already exists")
            revision = self._insert(key, op.value, prev=latest.id if latest else 0, expiry=op.expiry)
            done.events.append(Event(EventType.CREATED, KeyValue(key, op.value, revision, revision), None))
            done.expiries.append((key, revision, op.expiry))
            return revision
        if latest is None or not live:
            raise NotFound(f"key {key!r} not found")
        current = KeyValue(key, latest.value, latest.create_revision, latest.id)
        if op.kind is OpKind.UPDATE:
            if latest.id != op.expected_revision:
                raise Conflict(f"key {key!r} is at revision {latest.id}, not {op.expected_revision}", current)
            revision = self._insert(
                key, op.value, prev=latest.id, create_revision=latest.create_revision, expiry=op.expiry
            )
            kv = KeyValue(key, op.value, latest.create_revision, revision)
            done.events.append(Event(EventType.UPDATED, kv, current))
            done.expiries.append((key, revision, op.expiry))
            return revision
        if op.expected_revision and latest.id != op.expected_revision:
            raise Conflict(f"key {key!r} is at revision {latest.id}, not {op.expected_revision}", current)
        return self._tombstone(key, latest, done)

    def _latest(self, key: str) -> _Row | None:
        row = self._conn.execute(LATEST, (key,)).fetchone()
        return _Row(*row) if row is not None else None

    def _tombstone(self, key: str, latest: _Row, done: Committed) -> KeyValue:
        revision = self._insert(
            key, b"", prev=latest.id, create_revision=latest.create_revision, deleted=True, expiry=None
        )
        gone = KeyValue(key, latest.value, latest.create_revision, revision)
        done.events.append(
            Event(EventType.DELETED, gone, KeyValue(key, latest.value, latest.create_revision, latest.id))
        )
        done.expiries.append((key, revision, None))
        return gone

    def _insert(
        self,
        key: str,
        value: bytes,
        *,
        prev: int,
        expiry: float | None,
        create_revision: int = 0,
        deleted: bool = False,
    ) -> int:
        revision = self._revision + 1
        created = not create_revision  # no create revision given: this row creates the key
        try:
            self._conn.execute(
                INSERT,
                (revision, key, created, deleted, create_revision or revision, prev, value, expiry),
            )
        except sqlite3.IntegrityError as e:
            if e.sqlite_errorname not in GUARDS:
                raise
            # The (name, prev_revision) guard or the revision key: only if another writer got in first.
            raise Conflict(f"concurrent change to key {key!r}") from e
        self._revision = revision
        return revision

    def _compact_step(self, target: int) -> int:
        """Record `target` as the compact revision, then delete what it makes unreachable among the next
        rows not yet visited: every row replaced by a row at or below target, and every tombstone."""
        conn = self._conn
        conn.execute("UPDATE meta SET value = max(value, ?) WHERE key = ?", (target, COMPACT_REVISION))
        scanned = int(conn.execute("SELECT value FROM meta WHERE key = ?", (COMPACT_SCANNED,)).fetchone()[0])
        if scanned >= target:
            return scanned
        rows = conn.execute(
            "SELECT id, deleted, prev_revision FROM log WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
            (scanned, target, COMPACT_BATCH),
        ).fetchall()
        doomed = {prev for _, _, prev in rows if prev} | {id_ for id_, deleted, _ in rows if deleted}
        conn.executemany("DELETE FROM log WHERE id = ?", [(id_,) for id_ in doomed])
        reached = int(rows[-1][0]) if len(rows) == COMPACT_BATCH else target
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (reached, COMPACT_SCANNED))
        return reached


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
