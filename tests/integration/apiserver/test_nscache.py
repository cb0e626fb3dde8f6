"""The API server's namespace / service account cache against both store drivers: a miss reads the store,
writes through the server show at once, other writers' changes arrive by watch, and a cut watch re-lists."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from kubelite.apiserver.nscache import PrefixCache, WriteThroughStore
from kubelite.store import Event, KeyValue, ListResult, Store, Watch, WatchCutOff
from tests.integration.apiserver.conftest import RunningServer

PREFIX = "/registry/core/namespaces/"


class CountingStore:
    """Forwards to a real store, counting point reads, and cuts off the first `cuts` watches at once."""

    def __init__(self, inner: Store, *, cuts: int = 0) -> None:
        self.inner = inner
        self.gets = 0
        self.lists = 0
        self._cuts = cuts

    async def get(self, key: str) -> KeyValue:
        self.gets += 1
        return await self.inner.get(key)

    async def list(self, prefix: str, **kwargs: Any) -> ListResult:
        self.lists += 1
        return await self.inner.list(prefix, **kwargs)

    def watch(self, prefix: str, *, after_revision: int) -> Watch:
        if self._cuts:
            self._cuts -= 1
            return CutWatch()
        return self.inner.watch(prefix, after_revision=after_revision)


class CutWatch:
    def __aiter__(self) -> CutWatch:
        return self

    async def __anext__(self) -> Event:
        await asyncio.sleep(0.2)  # long enough for the test to write something the re-list must pick up
        raise WatchCutOff("fell behind")

    async def close(self) -> None:
        return None


def namespace(name: str, phase: str = "Active") -> bytes:
    return orjson.dumps({"kind": "Namespace", "metadata": {"name": name}, "status": {"phase": phase}})


def phase(kv: KeyValue | None) -> str | None:
    return None if kv is None else str(orjson.loads(kv.value)["status"]["phase"])


async def started(store: Any) -> PrefixCache:
    cache = PrefixCache(store, PREFIX)
    await cache.start()
    assert cache.synced
    return cache


async def eventually(check: Callable[[], Any]) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("condition not reached in 5 s")


async def test_lists_existing_keys_and_serves_them_from_memory(store: Store) -> None:
    await store.create(PREFIX + "a", namespace("a"))
    counting = CountingStore(store)
    cache = await started(counting)
    try:
        assert phase(await cache.get(PREFIX + "a")) == "Active"
        assert counting.gets == 0
    finally:
        await cache.stop()


async def test_miss_reads_the_store(store: Store) -> None:
    counting = CountingStore(store)
    cache = await started(counting)
    try:
        # Written behind the cache's back and read before its watch can have delivered it.
        await store.create(PREFIX + "fresh", namespace("fresh"))
        assert phase(await cache.get(PREFIX + "fresh")) == "Active"
        reads = counting.gets
        assert await cache.get(PREFIX + "missing") is None
        assert counting.gets == reads + 1
    finally:
        await cache.stop()


async def test_writes_through_the_server_show_at_once(store: Store) -> None:
    counting = CountingStore(store)
    cache = await started(counting)
    through = WriteThroughStore(store, cache)
    try:
        revision = await through.create(PREFIX + "ns", namespace("ns"))
        await through.update(PREFIX + "ns", namespace("ns", "Terminating"), expected_revision=revision)
        assert phase(await cache.get(PREFIX + "ns")) == "Terminating"
        assert counting.gets == 0
        await through.delete(PREFIX + "ns")
        assert await cache.get(PREFIX + "ns") is None
        # The watch later repeats those writes; replaying the create must not resurrect the namespace.
        await asyncio.sleep(0.3)
        assert await cache.get(PREFIX + "ns") is None
    finally:
        await cache.stop()


async def test_changes_by_another_writer_arrive_by_watch(store: Store) -> None:
    revision = await store.create(PREFIX + "ns", namespace("ns"))
    counting = CountingStore(store)
    cache = await started(counting)
    try:
        await store.update(PREFIX + "ns", namespace("ns", "Terminating"), expected_revision=revision)

        async def terminating() -> bool:
            return phase(await cache.get(PREFIX + "ns")) == "Terminating"

        await eventually(terminating)
        await store.delete(PREFIX + "ns")

        async def gone() -> bool:
            return await cache.get(PREFIX + "ns") is None

        await eventually(gone)
        assert counting.gets <= 1  # only the read after the delete, if the watch was not there yet
    finally:
        await cache.stop()


async def test_relists_after_the_watch_is_cut(store: Store) -> None:
    counting = CountingStore(store, cuts=1)
    cache = await started(counting)
    try:
        await store.create(PREFIX + "during-cut", namespace("during-cut"))

        async def relisted() -> bool:  # the re-list has finished, not only begun
            return counting.lists == 2 and cache.peek(PREFIX + "during-cut") is not None

        await eventually(relisted)
        assert phase(await cache.get(PREFIX + "during-cut")) == "Active"
        assert counting.gets == 0
    finally:
        await cache.stop()


def test_namespace_deleted_through_the_server_refuses_new_content(apiserver: RunningServer) -> None:
    apiserver.kubectl("create", "namespace", "doomed")
    apiserver.kubectl("create", "configmap", "before", "-n", "doomed")
    apiserver.kubectl("delete", "namespace", "doomed", "--wait=false")
    refused = apiserver.kubectl("create", "configmap", "after", "-n", "doomed", check=False)
    assert refused.returncode != 0
    assert "being terminated" in refused.stderr
    created = apiserver.kubectl("create", "namespace", "brand-new")
    assert created.returncode == 0
    apiserver.kubectl("create", "configmap", "right-away", "-n", "brand-new")
