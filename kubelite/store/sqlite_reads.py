"""Reads of the embedded store, each in one SQLite read transaction on a pool of reader threads.

WAL lets readers work beside the single writer; each reader thread owns its connection. Every multi-
statement read runs inside BEGIN...COMMIT so it sees one snapshot (the compact revision and the rows agree).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from kubelite.store.base import Event, EventType, Expired, KeyValue, Unavailable
from kubelite.store.sqlite_db import COMPACT_REVISION, LATEST, connect, prefix_end

T = TypeVar("T")

READER_THREADS = 3
LIST_FETCH = 256


class Readers:
    def __init__(self, path: str, *, threads: int = READER_THREADS) -> None:
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kubelite-sqlite-read")

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self._path, read_only=True)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                return fn(conn, *args)
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")  # nothing was written: ending the snapshot is all it does
        except sqlite3.Error as e:
            raise Unavailable(f"SQLite read failed: {e}") from e

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(connection, *args) on a reader thread, inside one read transaction."""
        try:
            reading = asyncio.get_running_loop().run_in_executor(self._pool, self._call, fn, args)
        except RuntimeError as e:  # the pool is shut down
            raise Unavailable("store is closed") from e
        return await reading

    def close(self) -> None:
        """Blocking: wait for running reads, then close every connection."""
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()


def compact_revision(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (COMPACT_REVISION,)).fetchone()
    return int(row[0]) if row else 0


def _check_not_compacted(conn: sqlite3.Connection, revision: int) -> None:
    compacted = compact_revision(conn)
    if revision < compacted:
        raise Expired(f"too old resource version: {revision} ({compacted})", compacted)


def get_latest(conn: sqlite3.Connection, key: str, now: float) -> KeyValue | None:
    row = conn.execute(LATEST, (key,)).fetchone()
    if row is None or row[1] or (row[4] is not None and row[4] <= now):
        return None
    return KeyValue(key, row[3], row[2], row[0])


def _range_sql(select: str, *, lower: str, upper: bool, tail: str) -> str:
    return f"{select} WHERE {lower}{' AND name < ?' if upper else ''}{tail}"


def list_at(
    conn: sqlite3.Connection, prefix: str, start_after: str, limit: int, revision: int, now: float
) -> tuple[list[KeyValue], bool]:
    """Live keys under prefix after start_after as of revision, in key order: (items, more)."""
    _check_not_compacted(conn, revision)
    # Keyset paging: walk the (name, id) index from the first name of the page, taking the newest row of
    # each name at or below the revision; rows are fetched lazily, so a page costs ~its own size.
    lower, bound = ("name > ?", start_after) if start_after >= prefix else ("name >= ?", prefix)
    end = prefix_end(prefix)
    newest = _range_sql(
        "SELECT name, MAX(id) AS id FROM log",
        lower=lower,
        upper=end is not None,
        tail=" AND id <= ? GROUP BY name ORDER BY name",
    )
    # CROSS JOIN keeps the subquery (in name order) as the outer loop, so no sort over the whole prefix.
    sql = (
        "SELECT l.name, l.id, l.create_revision, l.deleted, l.expiry, l.value"
        f" FROM ({newest}) AS n CROSS JOIN log AS l ON l.id = n.id"
    )
    params = (bound, end, revision) if end is not None else (bound, revision)
    cursor = conn.execute(sql, params)
    items: list[KeyValue] = []
    want = limit + 1 if limit > 0 else 0  # one more than the page tells whether more follow
    while rows := cursor.fetchmany(LIST_FETCH):
        for name, id_, create_revision, deleted, expiry, value in rows:
            if not deleted and (expiry is None or expiry > now):
                items.append(KeyValue(name, value, create_revision, id_))
        if want and len(items) >= want:
            break
    cursor.close()
    if want and len(items) >= want:
        return items[:limit], True
    return items, False


def events_between(conn: sqlite3.Connection, prefix: str, after: int, upto: int, limit: int) -> list[Event]:
    """Changes under prefix with after < revision <= upto, oldest first, at most limit."""
    _check_not_compacted(conn, after)
    end = prefix_end(prefix)
    sql = (
        "SELECT l.id, l.name, l.created, l.deleted, l.create_revision, l.value,"
        " p.id, p.create_revision, p.value"
        " FROM log AS l LEFT JOIN log AS p ON p.id = l.prev_revision"
        " WHERE l.id > ? AND l.id <= ? AND l.name >= ?"
        f"{' AND l.name < ?' if end is not None else ''} ORDER BY l.id LIMIT ?"
    )
    params = (after, upto, prefix, end, limit) if end is not None else (after, upto, prefix, limit)
    return [_event(*row) for row in conn.execute(sql, params)]


def _event(
    revision: int,
    name: str,
    created: int,
    deleted: int,
    create_revision: int,
    value: bytes,
    prev_id: int | None,
    prev_create_revision: int | None,
    prev_value: bytes | None,
) -> Event:
    prev = None
    if prev_id is not None and prev_create_revision is not None and prev_value is not None and not created:
        prev = KeyValue(name, prev_value, prev_create_revision, prev_id)
    if deleted:
        # A tombstone stores no value: the event carries the value it deleted.
        gone = prev.value if prev is not None else b""
        return Event(EventType.DELETED, KeyValue(name, gone, create_revision, revision), prev)
    kv = KeyValue(name, value, create_revision, revision)
    return Event(EventType.CREATED if created else EventType.UPDATED, kv, prev)
