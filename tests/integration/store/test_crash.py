"""Acknowledged writes survive kill -9: a child writes flat out, is killed at a random moment, and the
reopened store must hold every write the child saw acknowledged, with a consistent history."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path

from kubelite.store import Event, EventType, KeyValue
from kubelite.store.sqlite import SQLiteStore
from tests.integration.store.crash_writer import planned

CHILD = Path(__file__).with_name("crash_writer.py")
CYCLES = 10
WRITERS = 8

Acked = dict[int, list[tuple[int, int]]]  # writer -> [(index, revision)] in the order acknowledged


async def run_child_until_killed(path: Path, prefix: str, rng: random.Random) -> Acked:
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), str(path), prefix, str(WRITERS), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    try:
        async with asyncio.timeout(10):
            assert await child.stdout.readline() == b"ready\n"
        output = asyncio.create_task(child.stdout.read())  # keep the pipe drained
        await asyncio.sleep(rng.uniform(0.1, 0.6))
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        await child.wait()
    acked: Acked = {n: [] for n in range(WRITERS)}
    for line in (await output).split(b"\n")[:-1]:  # the last piece may be a line cut short
        writer, index, revision = map(int, line.split())
        acked[writer].append((index, revision))
    return acked


def state_after(prefix: str, writer: int, last: int) -> dict[str, bytes]:
    """The writer's live keys after its operations 0..last."""
    if last < 0:
        return {}
    kind, key, value = planned(prefix, writer, last)
    return {} if kind == "delete" else {key: value}


async def check(store: SQLiteStore, prefix: str, start: int, acked: Acked) -> None:
    # Final state: each writer had at most one write in flight, which may or may not have committed.
    for writer, ops in acked.items():
        assert [index for index, _ in ops] == list(range(len(ops)))
        last = len(ops) - 1
        live = {kv.key: kv.value for kv in (await store.list(f"{prefix}/{writer}/")).items}
        assert live in (state_after(prefix, writer, last), state_after(prefix, writer, last + 1))
    # History: every acknowledged write is an event at its revision, in one increasing sequence.
    marker = await store.create(f"{prefix}/~end", b"")
    history: dict[int, Event] = {}
    watch = store.watch(f"{prefix}/", after_revision=start)
    async with asyncio.timeout(10):
        async for event in watch:
            assert event.revision not in history and all(event.revision > r for r in history)
            history[event.revision] = event
            if event.revision == marker:
                break
    await watch.close()
    for writer, ops in acked.items():
        for index, revision in ops:
            kind, key, value = planned(prefix, writer, index)
            event = history[revision]
            assert event.kv.key == key
            if kind == "delete":
                assert event.type is EventType.DELETED
            else:
                assert event.type is (EventType.CREATED if kind == "create" else EventType.UPDATED)
                assert event.kv == KeyValue(key, value, event.kv.create_revision, revision)


async def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    rng = random.Random()
    every_revision: list[int] = []
    store = await SQLiteStore.open(str(path))
    start = await store.create("/crash/setup", b"")  # watches below start after a non-zero revision
    await store.close()
    for cycle in range(CYCLES):
        prefix = f"/crash/{cycle}"
        acked = await run_child_until_killed(path, prefix, rng)
        revisions = [revision for ops in acked.values() for _, revision in ops]
        assert revisions, "the child acknowledged no write before it was killed"
        # Revisions are never reused across crashes.
        assert min(revisions) > start
        every_revision += revisions
        store = await SQLiteStore.open(str(path))
        try:
            assert await store.current_revision() >= max(revisions)
            await check(store, prefix, start, acked)
            start = await store.create(f"{prefix}/~after", b"writable again")
        finally:
            await store.close()
    assert len(set(every_revision)) == len(every_revision)
