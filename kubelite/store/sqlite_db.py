"""The SQLite file behind the embedded store: schema, connections, and the checks made when opening it.

kine-style: every write appends one row to `log` and the row's id is the revision. Deletes append a
tombstone, so watchers can be replayed the history until compaction removes what no reader can ask for.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from kubelite.store.base import Unavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY,           -- the revision
    name TEXT NOT NULL,
    created INTEGER NOT NULL,         -- 1: this row created the key
    deleted INTEGER NOT NULL,         -- 1: a tombstone
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,   -- the row this one replaces, 0 if none
    value BLOB NOT NULL,
    expiry REAL                       -- unix time at which a TTL key is gone, NULL if it has no TTL
);
-- The compare-and-swap guard (a row has at most one successor) is also the index by name: its entries
-- are (name, prev_revision, id), and along one key's rows prev_revision grows with id, so the newest
-- row of a key is the one with the largest prev_revision. A separate (name, id) index would only add a
-- third b-tree to every write (~10% of the write throughput).
CREATE UNIQUE INDEX IF NOT EXISTS log_name_prev ON log (name, prev_revision);
CREATE INDEX IF NOT EXISTS log_expiry ON log (expiry) WHERE expiry IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# A key's newest row (see the schema for why prev_revision orders them).
LATEST = (
    "SELECT id, deleted, create_revision, value, expiry FROM log WHERE name = ?"
    " ORDER BY prev_revision DESC LIMIT 1"
)

# meta keys: history at or below compact_revision is gone; rows up to compact_scanned have been visited.
COMPACT_REVISION = "compact_revision"
COMPACT_SCANNED = "compact_scanned"

BUSY_TIMEOUT_SECONDS = 5.0
CACHE_KIB = 16 * 1024


@dataclass(frozen=True, slots=True)
class Opened:
    """What the store needs to know about a database it just opened."""

    writer: sqlite3.Connection
    lock_fd: int
    revision: int
    compact_revision: int
    compact_scanned: int
    expiring: list[tuple[float, str, int]]  # (expiry, key, revision) of every live key with a TTL


def connect(path: str, *, read_only: bool) -> sqlite3.Connection:
    # Autocommit mode: the store issues BEGIN/COMMIT itself. Connections move between threads only
    # while idle (opened here, then owned by one reader or the writer thread).
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if read_only:
            conn.execute("PRAGMA query_only = ON")
        else:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch to WAL journal mode (got {mode!r})")
            # FULL: the WAL is fsynced at every commit, so an acknowledged write survives a crash.
            conn.execute("PRAGMA synchronous = FULL")
            # SQLite's own checkpoints (every ~4 MiB of WAL) are kept: measured against a background
            # checkpointer thread and larger WALs, the small WAL that is rewound often wrote fastest.
    except BaseException:
        conn.close()
        raise
    return conn


def open_database(path: str) -> Opened:
    """Create or open the database at `path` for the single writer of this process; Unavailable if the
    file is not a usable kubelite database, cannot be written, or another process has it open."""
    lock_fd = _lock(path)
    try:
        writer = connect(path, read_only=False)
        try:
            return _load(writer, lock_fd)
        except BaseException:
            writer.close()
            raise
    except sqlite3.Error as e:
        os.close(lock_fd)
        raise Unavailable(f"cannot open SQLite database {path}: {e}") from e
    except BaseException:
        os.close(lock_fd)
        raise


def _lock(path: str) -> int:
    # Revisions are allocated in memory by one writer thread, so two processes must never share a file.
    lock_path = f"{path}.lock"
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise Unavailable(f"cannot open SQLite database {path}: {e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        message = f"SQLite database {path} is in use by another process ({lock_path} is locked)"
        raise Unavailable(message) from e
    return fd


def _load(conn: sqlite3.Connection, lock_fd: int) -> Opened:
    conn.executescript(SCHEMA)
    # Takes the write lock: fails now, not at the first write, if the file cannot be written.
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, 0), (?, 0)", (COMPACT_REVISION, COMPACT_SCANNED)
    )
    conn.execute("COMMIT")
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    newest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM log").fetchone()[0]
    compact_revision = int(meta[COMPACT_REVISION])
    expiring = conn.execute(
        "SELECT l.expiry, l.name, l.id FROM log AS l"
        " WHERE l.expiry IS NOT NULL AND l.deleted = 0"
        " AND l.id = (SELECT MAX(id) FROM log WHERE name = l.name)"
    ).fetchall()
    return Opened(
        writer=conn,
        lock_fd=lock_fd,
        # Compaction may have removed the newest row (a tombstone); revisions must never be reused.
        revision=max(int(newest), compact_revision),
        compact_revision=compact_revision,
        compact_scanned=int(meta[COMPACT_SCANNED]),
        expiring=[(float(e), str(n), int(i)) for e, n, i in expiring],
    )


def unlock(lock_fd: int) -> None:
    os.close(lock_fd)


def prefix_end(prefix: str) -> str | None:
    """The smallest string after every string that starts with prefix; None if there is none.
    (SQLite compares TEXT as UTF-8 bytes, which orders like code points, as Python does.)"""
    stripped = prefix.rstrip(chr(0x10FFFF))
    if not stripped:
        return None
    last = ord(stripped[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be stored; the next storable code point follows them
        last = 0xE000
    return stripped[:-1] + chr(last)
