"""Store benchmark: each driver next to its raw baseline, measured in the same run.

Prints a table and, last, one JSON document. Not a timed test: these machines are noisy, so read the ratios.

    .venv/bin/python bench/store.py [--quick] [--drivers sqlite,etcd]

Raw baselines: plain sqlite3 with a writer thread committing whatever is queued (group commit, WAL,
synchronous=FULL); raw `aetcd` transactions (compare mod_revision, put) on the same etcd server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import queue
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aetcd import rpc

from kubelite.store import Store, open_store
from tests.support.etcd import EtcdServer

CONCURRENCY = 16
VALUE = b"x" * 450  # about the size of a small Kubernetes object


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def rate(total: int, workers: int, op: Callable[[int, int], Awaitable[None]]) -> float:
    """Operations per second of `total` calls op(worker, i), i in 0..total-1, over `workers` tasks."""

    async def run(worker: int) -> None:
        for i in range(worker, total, workers):
            await op(worker, i)

    start = time.perf_counter()
    await asyncio.gather(*(run(w) for w in range(workers)))
    return total / (time.perf_counter() - start)


# --- the kubelite drivers ---------------------------------------------------------------------------


async def cas_writes(store: Store, prefix: str, total: int, workers: int) -> float:
    revisions: dict[str, int] = {}
    for w in range(workers):
        key = f"{prefix}/w{w}"
        revisions[key] = await store.create(key, VALUE)

    async def op(worker: int, _: int) -> None:
        key = f"{prefix}/w{worker}"
        revisions[key] = await store.update(key, VALUE, expected_revision=revisions[key])

    return await rate(total, workers, op)


async def fill(store: Store, prefix: str, count: int) -> None:
    async def op(worker: int, i: int) -> None:
        await store.create(f"{prefix}/{i:07d}", VALUE)

    await rate(count, CONCURRENCY, op)


async def list_seconds(store: Store, prefix: str, expect: int) -> float:
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        result = await store.list(prefix)
        timings.append(time.perf_counter() - start)
        assert len(result.items) == expect, (len(result.items), expect)
    return min(timings)


async def watch_latency(store: Store, prefix: str, count: int) -> tuple[float, float]:
    """p50/p99 milliseconds from issuing a write to its event arriving (the value carries the send time)."""
    watch = store.watch(prefix, after_revision=await store.current_revision())
    delays: list[float] = []

    async def consume() -> None:
        async for event in watch:
            delays.append(time.perf_counter() - float(event.kv.value))
            if len(delays) == count:
                return

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.2)  # let the watch establish before the first write
    for i in range(count):
        await store.create(f"{prefix}/{i}", repr(time.perf_counter()).encode())
        await asyncio.sleep(0.001)
    await asyncio.wait_for(consumer, 30)
    await watch.close()
    return percentile(delays, 0.5) * 1000, percentile(delays, 0.99) * 1000


async def measure_driver(store: Store, sizes: dict[str, int]) -> dict[str, float]:
    results: dict[str, float] = {}
    results["cas_sequential_per_s"] = await cas_writes(store, "/bench/seq", sizes["writes"] // 4, 1)
    results["cas_16_concurrent_per_s"] = await cas_writes(store, "/bench/par", sizes["writes"], CONCURRENCY)
    for count in (sizes["list_small"], sizes["list_large"]):
        await fill(store, f"/bench/list{count}", count)
        results[f"list_{count}_keys_ms"] = await list_seconds(store, f"/bench/list{count}/", count) * 1000
    p50, p99 = await watch_latency(store, "/bench/watch", sizes["watch_events"])
    results["watch_p50_ms"], results["watch_p99_ms"] = p50, p99
    return results


# --- raw baselines ----------------------------------------------------------------------------------


async def raw_sqlite_writes(path: Path, total: int, workers: int) -> float:
    """Plain sqlite3: asyncio producers, one writer thread committing whatever is queued at once."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS kv (id INTEGER PRIMARY KEY, name TEXT, value BLOB)")
    loop = asyncio.get_running_loop()
    pending: queue.Queue[tuple[str, asyncio.Future[int]] | None] = queue.Queue()

    def writer() -> None:
        stop = False
        while not stop:
            item = pending.get()
            if item is None:
                break
            batch = [item]
            while not pending.empty():
                more = pending.get_nowait()
                if more is None:
                    stop = True
                    break
                batch.append(more)
            db.execute("BEGIN IMMEDIATE")
            insert = "INSERT INTO kv(name, value) VALUES (?, ?)"
            ids = [db.execute(insert, (name, VALUE)).lastrowid for name, _ in batch]
            db.execute("COMMIT")
            for (_, fut), row in zip(batch, ids, strict=True):
                loop.call_soon_threadsafe(fut.set_result, row or 0)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()

    async def op(worker: int, i: int) -> None:
        fut: asyncio.Future[int] = loop.create_future()
        pending.put((f"/raw/{worker}/{i}", fut))
        await fut

    result = await rate(total, workers, op)
    pending.put(None)
    await asyncio.to_thread(thread.join)
    db.close()
    return result


async def raw_etcd_writes(endpoint: str, total: int, workers: int) -> float:
    """Raw etcd v3 transactions through aetcd's generated stubs on one channel: compare mod_revision, put."""
    target = endpoint.removeprefix("etcd://")
    async with rpc.insecure_channel(target) as channel:
        kv = rpc.KVStub(channel)
        revisions: dict[int, int] = {}
        for w in range(workers):
            put = await kv.Put(rpc.PutRequest(key=f"/raw/w{w}".encode(), value=VALUE))
            revisions[w] = put.header.revision

        async def op(worker: int, _: int) -> None:
            key = f"/raw/w{worker}".encode()
            compare = rpc.Compare(
                key=key, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL, mod_revision=revisions[worker]
            )
            put = rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=VALUE))
            response = await kv.Txn(rpc.TxnRequest(compare=[compare], success=[put]))
            assert response.succeeded, "raw CAS lost: each worker owns its key"
            revisions[worker] = response.header.revision

        return await rate(total, workers, op)


# --- driving ----------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def driver(name: str, workdir: Path) -> AsyncIterator[tuple[Store, str]]:
    if name == "sqlite":
        store = await open_store(f"sqlite://{workdir / 'bench.db'}")
        try:
            yield store, ""
        finally:
            await store.close()
        return
    with EtcdServer(workdir / "etcd") as server:
        store = await open_store(server.endpoint)
        try:
            yield store, server.endpoint
        finally:
            await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--drivers", default="sqlite,etcd")
    args = parser.parse_args()
    sizes = {"writes": 4000, "list_small": 10_000, "list_large": 100_000, "watch_events": 1000}
    if args.quick:
        sizes = {"writes": 400, "list_small": 1000, "list_large": 5000, "watch_events": 100}

    report: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "sizes": sizes,
    }
    for name in args.drivers.split(","):
        with tempfile.TemporaryDirectory(prefix=f"kubelite-bench-{name}-") as tmp:
            async with driver(name, Path(tmp)) as (store, endpoint):
                measured = await measure_driver(store, sizes)
                if name == "sqlite":
                    raw_seq = await raw_sqlite_writes(Path(tmp) / "raw.db", sizes["writes"] // 4, 1)
                    raw_par = await raw_sqlite_writes(Path(tmp) / "raw.db", sizes["writes"], CONCURRENCY)
                else:
                    raw_seq = await raw_etcd_writes(endpoint, sizes["writes"] // 4, 1)
                    raw_par = await raw_etcd_writes(endpoint, sizes["writes"], CONCURRENCY)
        measured["raw_sequential_per_s"] = raw_seq
        measured["raw_16_concurrent_per_s"] = raw_par
        measured["ratio_sequential"] = measured["cas_sequential_per_s"] / raw_seq
        measured["ratio_16_concurrent"] = measured["cas_16_concurrent_per_s"] / raw_par
        report[name] = {k: round(v, 3) for k, v in measured.items()}

    for name in args.drivers.split(","):
        rows = report[name]
        assert isinstance(rows, dict)
        print(f"\n{name}")
        for key, value in rows.items():
            print(f"  {key:28} {value:>12,.2f}")
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
