"""The watch cache against both store drivers: reads come from memory only when they are as fresh as the store
(a write behind the cache's back is seen at once), pages and selectors answer what the store answers, paging
continues from the store at the cache's revision (410 once compacted), and what the cache cannot answer
exactly goes to the store."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubelite.apiserver import errors, listing, strategies
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.table import load_resources
from kubelite.apiserver.watchcache import CONSISTENT_WAIT, WatchCache
from kubelite.store import ListResult, Store, Unavailable
from tests.integration.apiserver import test_nscache
from tests.integration.apiserver.conftest import RunningServer

PODS = next(r for r in load_resources() if (r.group, r.plural) == ("", "pods"))
EVENTS = next(r for r in load_resources() if (r.group, r.plural) == ("", "events"))


class CountingStore(test_nscache.CountingStore):
    """Counts point reads and lists; everything else goes to the real store."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def pod(name: str, namespace: str = "ns", **labels: str) -> bytes:
    meta = {"name": name, "namespace": namespace, "labels": labels}
    return orjson.dumps({"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": {"nodeName": name}})


async def cached_registry(store: Any) -> tuple[Registry, WatchCache]:
    cache = WatchCache(store, [PODS.storage_prefix])
    await cache.start()
    registry = Registry(store, PODS, strategies.for_resource("", "pods"))
    registry.cache = cache
    return registry, cache


def query(**params: str) -> listing.ListQuery:
    return listing.parse_query(params, group="", resource="pods", watch=False)


async def every_page(registry: Registry, namespace: str, **params: str) -> list[str]:
    """Names over all pages of a list (the first with `params`)."""
    names: list[str] = []
    token = ""
    while True:
        page = await listing.list_objects(
            registry, namespace, query(**params, **({"continue": token} if token else {}))
        )
        names += [o["metadata"]["name"] for o in page.items]
        token = page.continue_token
        if not token:
            return names


async def test_reads_after_writes_behind_its_back_are_fresh_and_from_memory(store: Store) -> None:
    await store.create(PODS.key("ns", "old"), pod("old"))
    counting = CountingStore(store)
    registry, cache = await cached_registry(counting)
    try:
        lists = counting.lists
        revision = await store.create(
            PODS.key("ns", "new"), pod("new")
        )  # no time for the watch to deliver it
        obj, kv = await registry.get("ns", "new")
        assert obj["metadata"]["resourceVersion"] == str(revision) == str(kv.mod_revision)
        await store.delete(PODS.key("ns", "old"))
        with pytest.raises(errors.ApiError) as missing:
            await registry.get("ns", "old")
        assert missing.value.code == 404
        assert missing.value.message == 'pods "old" not found'
        page = await listing.list_objects(registry, "ns", query())
        assert [o["metadata"]["name"] for o in page.items] == ["new"]
        assert page.revision == await store.current_revision()
        assert (counting.gets, counting.lists) == (0, lists)
    finally:
        await cache.stop()


async def test_writes_outside_the_registry_do_not_hold_reads_back(store: Store) -> None:
    """Another program sharing the store (an etcd) writes its own keys: the cache still reaches the
    store's revision at once and answers from memory, rather than waiting out CONSISTENT_WAIT."""
    await store.create(PODS.key("ns", "p"), pod("p"))
    counting = CountingStore(store)
    registry, cache = await cached_registry(counting)
    try:
        await store.create("/elsewhere/key", b"not kubelite's")
        started = asyncio.get_running_loop().time()
        obj, _ = await registry.get("ns", "p")
        assert asyncio.get_running_loop().time() - started < CONSISTENT_WAIT / 2
        assert obj["metadata"]["name"] == "p" and counting.gets == 0
    finally:
        await cache.stop()


async def test_a_store_outage_is_a_503_not_a_crash(store: Store) -> None:
    await store.create(PODS.key("ns", "p"), pod("p"))
    counting = CountingStore(store)
    registry, cache = await cached_registry(counting)

    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise Unavailable("the store is unreachable")

    try:
        counting.current_revision = counting.get = counting.list = unavailable  # type: ignore[method-assign]
        with pytest.raises(errors.ApiError) as failed:
            await registry.get("ns", "p")
        assert failed.value.code == 503
        with pytest.raises(errors.ApiError) as failed:
            await listing.list_objects(registry, "ns", query(resourceVersion="1"))
        assert failed.value.code == 503
    finally:
        await cache.stop()


async def test_a_write_between_the_first_list_and_the_watch_is_not_lost(store: Store) -> None:
    """On an empty SQLite store the list is at revision 0, which a watch takes as "from now"."""

    class WriteAfterList(CountingStore):
        racing = True

        async def list(self, prefix: str, **kwargs: Any) -> ListResult:
            result = await super().list(prefix, **kwargs)
            if self.racing:
                self.racing = False
                await self.inner.create(PODS.key("ns", "early"), pod("early"))
            return result

    racing = WriteAfterList(store)
    registry, cache = await cached_registry(racing)
    try:
        obj, _ = await registry.get("ns", "early")
        assert obj["metadata"]["name"] == "early" and racing.gets == 0  # from the cache, not the store
    finally:
        await cache.stop()


async def test_answers_what_the_store_answers(store: Store) -> None:
    for i in range(7):
        await store.create(PODS.key("ns", f"p{i}"), pod(f"p{i}", tier="web" if i % 2 else "db"))
    await store.create(PODS.key("other", "p9"), pod("p9", "other", tier="web"))
    registry, cache = await cached_registry(store)
    plain = Registry(store, PODS, strategies.for_resource("", "pods"))
    try:
        for namespace, params in [
            ("ns", {}),
            ("", {}),
            ("ns", {"labelSelector": "tier=web"}),
            ("", {"fieldSelector": "metadata.name=p3"}),
            ("ns", {"limit": "3"}),
            ("ns", {"limit": "2", "labelSelector": "tier=db"}),
            ("ns", {"limit": "7"}),
            ("ns", {"resourceVersion": "0"}),
        ]:
            q = query(**params)
            assert await listing.cached_page(registry, namespace, q) is not None
            from_cache = orjson.loads(await listing.list_json(registry, namespace, q))
            from_store = orjson.loads(await listing.list_json(plain, namespace, q))
            assert from_cache == from_store, params
            assert await every_page(registry, namespace, **params) == await every_page(
                plain, namespace, **params
            )
    finally:
        await cache.stop()


async def test_later_pages_read_the_store_at_the_first_pages_revision(store: Store) -> None:
    for i in range(4):
        await store.create(PODS.key("ns", f"p{i}"), pod(f"p{i}"))
    registry, cache = await cached_registry(store)
    try:
        first = await listing.list_objects(registry, "ns", query(limit="2"))
        assert [o["metadata"]["name"] for o in first.items] == ["p0", "p1"]
        await store.delete(PODS.key("ns", "p2"))
        rest = await listing.list_objects(
            registry, "ns", query(limit="5", **{"continue": first.continue_token})
        )
        assert [o["metadata"]["name"] for o in rest.items] == ["p2", "p3"]  # as of the first page
        assert rest.revision == first.revision
        await store.create(PODS.key("ns", "p4"), pod("p4"))
        await store.compact(await store.current_revision())
        with pytest.raises(errors.ApiError) as gone:
            await listing.list_objects(registry, "ns", query(limit="5", **{"continue": first.continue_token}))
        assert gone.value.code == 410
    finally:
        await cache.stop()


async def test_what_it_cannot_answer_goes_to_the_store(store: Store) -> None:
    revision = await store.create(PODS.key("ns", "a"), pod("a"))
    await store.create(PODS.key("ns", "b"), pod("b"))
    counting = CountingStore(store)
    registry, cache = await cached_registry(counting)
    try:
        exact = query(resourceVersion=str(revision), resourceVersionMatch="Exact")
        assert await listing.cached_page(registry, "ns", exact) is None
        lists = counting.lists
        page = await listing.list_objects(registry, "ns", exact)
        assert [o["metadata"]["name"] for o in page.items] == ["a"]
        assert counting.lists == lists + 1
        future = query(resourceVersion=str(await store.current_revision() + 100))
        assert await listing.cached_page(registry, "ns", future) is None
        await cache.stop()  # an unsynced cache answers nothing
        assert await listing.cached_page(registry, "ns", query()) is None
        await registry.get("ns", "a")
        assert counting.gets == 1
    finally:
        await cache.stop()


async def test_expiring_keys_are_not_cached(store: Store) -> None:
    cache = WatchCache(store, [PODS.storage_prefix])
    assert not cache.caches(EVENTS.storage_prefix)
    assert strategies.for_resource("", "events").ttl_seconds is not None


async def test_relists_after_its_watch_is_cut(store: Store) -> None:
    counting = CountingStore(store, cuts=1)
    registry, cache = await cached_registry(counting)
    try:
        await store.create(PODS.key("ns", "during-cut"), pod("during-cut"))
        for _ in range(200):
            if counting.lists >= 2 and await listing.cached_page(registry, "ns", query()) is not None:
                break
            await asyncio.sleep(0.025)
        page = await listing.cached_page(registry, "ns", query())
        assert page is not None
        assert [e.kv.key for e in page.entries] == [PODS.key("ns", "during-cut")]
    finally:
        await cache.stop()


def test_reads_through_the_server_see_every_write_at_once(apiserver: RunningServer) -> None:
    core: Any = client.CoreV1Api(apiserver.python_client())
    for i in range(5):
        created = core.create_namespaced_config_map(
            "default", {"metadata": {"name": f"c{i}"}, "data": {"i": str(i)}}
        )
        read = core.read_namespaced_config_map(f"c{i}", "default")
        assert read.metadata.resource_version == created.metadata.resource_version
    core.patch_namespaced_config_map("c1", "default", {"data": {"i": "patched"}})
    assert core.read_namespaced_config_map("c1", "default").data == {"i": "patched"}
    first = core.list_namespaced_config_map("default", limit=2)
    names = [c.metadata.name for c in first.items]
    core.delete_namespaced_config_map("c4", "default")
    rest = core.list_namespaced_config_map("default", limit=10, _continue=first.metadata._continue)
    names += [c.metadata.name for c in rest.items]
    assert [n for n in names if n.startswith("c")] == ["c0", "c1", "c2", "c3", "c4"]  # as of the first page
    assert rest.metadata.resource_version == first.metadata.resource_version
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("c4", "default")
    assert missing.value.status == 404
    latest = core.list_namespaced_config_map("default")
    assert [c.metadata.name for c in latest.items if c.metadata.name.startswith("c")] == [
        "c0",
        "c1",
        "c2",
        "c3",
    ]
    exact = core.list_namespaced_config_map(
        "default", resource_version=first.metadata.resource_version, resource_version_match="Exact"
    )
    assert [c.metadata.name for c in exact.items if c.metadata.name.startswith("c")] == names
