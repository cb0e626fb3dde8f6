"""What only the SQLite driver promises: start-up checks, group commit, bounded history, the compaction
policy, watches that cross from history to memory, and TTL keys hidden before the reaper runs."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubelite.store import (
    AlreadyExists,
    EventType,
    Expired,
    NotFound,
    Unavailable,
    broadcast,
    open_store,
    sqlite_ttl,
    sqlite_writer,
)
from kubelite.store.compactor import CompactionPolicy, Compactor
from kubelite.store.sqlite import SQLiteStore


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = await SQLiteStore.open(str(tmp_path / "state.db"))
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def side(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the same file, to look at (or lock) what the store wrote."""
    conn = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


async def test_a_corrupt_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(Unavailable, match="not a database"):
        await open_store(f"sqlite://{path}")


async def test_an_unwritable_path_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a directory")
    with pytest.raises(Unavailable, match="cannot open"):
        await open_store(f"sqlite://{tmp_path / 'file' / 'state.db'}")


async def test_a_database_in_use_is_unavailable(db: SQLiteStore, tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="in use"):
        await SQLiteStore.open(str(tmp_path / "state.db"))


async def test_parent_directories_are_created_and_options_ignored(tmp_path: Path) -> None:
    store = await open_store(f"sqlite://{tmp_path / 'a' / 'b' / 'state.db'}?_journal=WAL&cache=shared")
    try:
        assert await store.create("/k", b"v") == 1
    finally:
        await store.close()
    assert (tmp_path / "a" / "b" / "state.db").exists()


async def test_revisions_continue_after_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = await SQLiteStore.open(path)
    await store.create("/a", b"1")
    deleted = await store.delete("/a")
    await store.compact(deleted.mod_revision)  # removes every row, tombstone included
    await store.close()
    store = await SQLiteStore.open(path)
    try:
        assert await store.current_revision() == deleted.mod_revision
        assert await store.create("/a", b"2") == deleted.mod_revision + 1
        with pytest.raises(Expired):
            await store.list("/", revision=deleted.mod_revision - 1)
    finally:
        await store.close()


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the writer starts to commit."""
    sizes: list[int] = []
    commit = sqlite_writer.Writer._commit

    def counting_commit(self: sqlite_writer.Writer, batch: list[sqlite_writer.WriteOp]) -> None:
        sizes.append(len(batch))
        commit(self, batch)

    monkeypatch.setattr(sqlite_writer.Writer, "_commit", counting_commit)
    return sizes


async def started(batches: list[int], count: int) -> None:
    """Wait until the writer thread has started `count` batches."""
    for _ in range(500):
        if len(batches) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the writer started {len(batches)} batches, not {count}")


async def test_writes_queued_together_commit_together(
    db: SQLiteStore, side: sqlite3.Connection, batches: list[int]
) -> None:
    await db.create("/dup", b"")
    # Hold the write lock so the writer blocks on its next batch while the rest queue up behind it.
    side.execute("BEGIN IMMEDIATE")
    writes = [asyncio.create_task(db.create("/first", b""))]
    await started(batches, 2)
    writes += [asyncio.create_task(db.create(f"/k{i}", b"")) for i in range(30)]
    writes.append(asyncio.create_task(db.create("/dup", b"")))
    await asyncio.sleep(0.1)
    side.execute("COMMIT")
    results = await asyncio.gather(*writes, return_exceptions=True)

    assert batches == [1, 1, 31]
    assert isinstance(results[-1], AlreadyExists)  # a failed compare-and-swap fails only itself
    assert sorted(r for r in results if isinstance(r, int)) == list(range(2, 33))


async def test_a_sql_error_fails_the_whole_batch(
    db: SQLiteStore, side: sqlite3.Connection, batches: list[int]
) -> None:
    side.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON log WHEN NEW.name = '/boom'"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    side.execute("BEGIN IMMEDIATE")
    first = asyncio.create_task(db.create("/first", b""))
    await started(batches, 1)
    batch = [asyncio.create_task(db.create(key, b"")) for key in ["/a", "/boom", "/b"]]
    await asyncio.sleep(0.1)
    side.execute("COMMIT")
    assert await first == 1
    results = await asyncio.gather(*batch, return_exceptions=True)
    assert all(isinstance(r, Unavailable) for r in results)
    assert batches == [1, 3]
    with pytest.raises(NotFound):
        await db.get("/a")
    assert await db.current_revision() == 1
    assert await db.create("/c", b"") == 2


def count_rows(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM log").fetchone()[0])


async def test_compaction_keeps_the_table_bounded(
    db: SQLiteStore, side: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_writer, "COMPACT_BATCH", 100)  # many steps, interleaved with writes
    revision = await db.create("/hot", b"0")
    for i in range(1500):
        revision = await db.update("/hot", str(i).encode(), expected_revision=revision)
        if i % 5 == 0:
            await db.create(f"/churn/{i}", b"")
            await db.delete(f"/churn/{i}")
    await db.create("/keep", b"kept")
    assert count_rows(side) > 2000

    async def keep_writing() -> None:
        for i in range(200):
            await db.create(f"/during/{i}", b"")

    writing = asyncio.create_task(keep_writing())
    await db.compact(await db.current_revision() - 200)
    await writing
    await db.compact(await db.current_revision())
    assert count_rows(side) == 2 + 200
    assert (await db.get("/hot")).value == b"1499"
    assert (await db.get("/keep")).value == b"kept"


async def test_an_interrupted_compaction_finishes_after_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = await SQLiteStore.open(path)
    revision = await store.create("/a", b"")
    for i in range(50):
        revision = await store.update("/a", str(i).encode(), expected_revision=revision)
    await store.close()
    with sqlite3.connect(path) as conn:  # as if the process died right after recording the revision
        conn.execute("UPDATE meta SET value = ? WHERE key = 'compact_revision'", (revision,))
    conn.close()
    store = await SQLiteStore.open(path)
    try:
        async with asyncio.timeout(5):
            while True:
                with sqlite3.connect(path) as conn:
                    rows = count_rows(conn)
                conn.close()
                if rows == 1:
                    break
                await asyncio.sleep(0.05)
        assert (await store.get("/a")).value == b"49"
    finally:
        await store.close()


async def test_a_watch_crosses_from_history_to_memory_without_gap_or_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broadcast, "RING_SIZE", 20)
    monkeypatch.setattr(broadcast, "CATCH_UP_PAGE", 7)
    store = await SQLiteStore.open(str(tmp_path / "state.db"))
    try:
        start = await store.create("/w/start", b"")
        for i in range(100):
            await store.create(f"/w/{i}", b"")
        watch = store.watch("/w/", after_revision=start)

        async def write_more() -> None:
            for i in range(100, 200):
                await store.create(f"/w/{i}", b"")
                await asyncio.sleep(0)

        writing = asyncio.create_task(write_more())
        seen = []
        async with asyncio.timeout(10):
            async for event in watch:
                seen.append(event.revision)
                if len(seen) == 200:
                    break
        await writing
        await watch.close()
        assert seen == list(range(start + 1, start + 201))
    finally:
        await store.close()


async def test_expired_keys_are_gone_before_the_reaper_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(self: sqlite_ttl.Reaper) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(sqlite_ttl.Reaper, "run", never)
    store = await SQLiteStore.open(str(tmp_path / "state.db"))
    try:
        watch = store.watch("/", after_revision=0)
        first = await store.create("/t", b"1", ttl=0.2)
        await store.create("/plain", b"")
        await asyncio.sleep(0.3)
        with pytest.raises(NotFound):
            await store.get("/t")
        assert [kv.key for kv in (await store.list("/")).items] == ["/plain"]
        # The first write to touch the key records its deletion, then proceeds as if it were absent.
        second = await store.create("/t", b"2", ttl=0.2)
        revision = await store.update("/t", b"3", expected_revision=second)  # no ttl: never expires
        await asyncio.sleep(0.3)
        assert (await store.get("/t")).value == b"3"
        events = []
        async with asyncio.timeout(5):
            async for event in watch:
                events.append((event.type, event.revision))
                if event.revision == revision:
                    break
        await watch.close()
        assert events == [
            (EventType.CREATED, first),
            (EventType.CREATED, first + 1),
            (EventType.DELETED, first + 2),
            (EventType.CREATED, second),
            (EventType.UPDATED, revision),
        ]
    finally:
        await store.close()


async def test_ttl_keys_survive_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = await SQLiteStore.open(path)
    await store.create("/t", b"", ttl=0.5)
    await store.close()
    store = await SQLiteStore.open(path)
    try:
        watch = store.watch("/", after_revision=0)
        async with asyncio.timeout(5):
            event = await anext(aiter(watch))
        await watch.close()
        assert event.type is EventType.DELETED and event.kv.key == "/t"
    finally:
        await store.close()


def test_compaction_policy_keeps_the_window_and_a_minimum_of_revisions() -> None:
    policy = CompactionPolicy(retention=300, min_revisions=1000)
    assert policy.observe(0, 100) == 0
    assert policy.observe(100, 5000) == 0
    assert policy.observe(299, 9000) == 0  # nothing is older than the window yet
    assert policy.observe(300, 9500) == 100  # the newest sample older than the window
    policy.compacted = 100
    assert policy.observe(400, 12000) == 5000


def test_with_little_traffic_the_minimum_of_revisions_wins() -> None:
    policy = CompactionPolicy(retention=300, min_revisions=1000)
    assert policy.observe(0, 100) == 0
    assert policy.observe(400, 600) == 0  # revision 100 is out of the window but within the last 1000
    assert policy.observe(800, 1200) == 200


async def test_the_compactor_compacts_a_store(db: SQLiteStore) -> None:
    now = [0.0]
    compactor = Compactor(db, retention=60, min_revisions=10, clock=lambda: now[0])
    for i in range(30):
        await db.create(f"/c/{i}", b"")
    assert await compactor.run_once() == 0
    for i in range(30, 50):
        await db.create(f"/c/{i}", b"")
    now[0] = 61
    assert await compactor.run_once() == 30
    with pytest.raises(Expired):
        await db.list("/c/", revision=29)
    assert len((await db.list("/c/", revision=30)).items) == 30
    now[0] = 200
    assert await compactor.run_once() == 40  # the current revision less the minimum kept
