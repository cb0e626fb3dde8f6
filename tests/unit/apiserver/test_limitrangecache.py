"""LimitRangeSource: one store list per namespace per TTL, shared by concurrent requests, and a LimitRange
write admitted here bypasses the cache until it has landed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from kubelite.apiserver.limitrangecache import LimitRangeSource
from kubelite.apiserver.resource import ApiResource
from kubelite.store import ListResult, Store, open_store

RESOURCE = ApiResource("", "v1", "LimitRange", "limitranges", "limitrange", True)


class CountingStore:
    """The store's list, counted (the only call LimitRangeSource makes)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lists = 0

    async def list(self, prefix: str, **kwargs: int | str) -> ListResult:
        self.lists += 1
        await asyncio.sleep(0.01)  # let concurrent callers pile up behind the first
        return await self.store.list(prefix)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite://{tmp_path / 'state.db'}")
    try:
        yield opened
    finally:
        await opened.close()


async def put(store: Store, namespace: str, name: str) -> None:
    obj = {"kind": "LimitRange", "metadata": {"name": name, "namespace": namespace}}
    await store.create(RESOURCE.key(namespace, name), orjson.dumps(obj))


def names(items: list[dict[str, object]]) -> list[object]:
    return [item["metadata"]["name"] for item in items]  # type: ignore[index]


async def test_lists_once_per_namespace_until_the_entry_expires(store: Store) -> None:
    counting, clock = CountingStore(store), Clock()
    source = LimitRangeSource(counting, RESOURCE, ttl=30, clock=clock)  # type: ignore[arg-type]
    await put(store, "a", "x")
    results = await asyncio.gather(*(source.get("a") for _ in range(20)))
    assert [names(r) for r in results] == [["x"]] * 20 and counting.lists == 1
    assert await source.get("empty") == [] and counting.lists == 2
    await put(store, "a", "y")  # written elsewhere: seen once the entry expires
    assert names(await source.get("a")) == ["x"] and counting.lists == 2
    clock.now += 31
    assert names(await source.get("a")) == ["x", "y"] and counting.lists == 3


async def test_a_noted_write_is_read_from_the_store_until_it_settles(store: Store) -> None:
    counting, clock = CountingStore(store), Clock()
    source = LimitRangeSource(counting, RESOURCE, ttl=30, settle=5, clock=clock)  # type: ignore[arg-type]
    assert await source.get("a") == []
    source.note_write("a")
    assert await source.get("a") == [] and counting.lists == 2  # the write has not landed yet: not cached
    await put(store, "a", "x")
    assert names(await source.get("a")) == ["x"] and counting.lists == 3
    clock.now += 6
    assert names(await source.get("a")) == ["x"] and counting.lists == 4
    assert names(await source.get("a")) == ["x"] and counting.lists == 4
