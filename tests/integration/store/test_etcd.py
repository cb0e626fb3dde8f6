"""What only the etcd driver has to get right: reaching etcd, surviving its restart, leases, and the
watch buffer's two regimes (history replay paced by the consumer; live events cut off when it lags)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aetcd
import pytest

from kubelite.store import (
    Event,
    EventType,
    Expired,
    NotFound,
    Store,
    Unavailable,
    Watch,
    WatchCutOff,
    broadcast,
    open_store,
)
from tests.support.etcd import EtcdServer, free_port


async def next_event(watch: Watch, within: float = 5.0) -> Event:
    return await asyncio.wait_for(anext(aiter(watch)), within)


@pytest.fixture
async def store(etcd_server: EtcdServer) -> AsyncIterator[Store]:
    """Overrides the directory's `store`, which is parametrized over every driver: these are etcd's alone."""
    s = await open_store(etcd_server.endpoint)
    try:
        yield s
    finally:
        await s.close()


async def test_unreachable_etcd_is_unavailable_quickly() -> None:
    port = free_port()  # nothing listens on it
    started = time.monotonic()
    with pytest.raises(Unavailable, match=f"127.0.0.1:{port}.*Connection refused"):
        await open_store(f"etcd://127.0.0.1:{port}")
    assert time.monotonic() - started < 5


async def test_several_endpoints_skip_an_unreachable_member(etcd_server: EtcdServer) -> None:
    store = await open_store(f"etcd://127.0.0.1:{free_port()},127.0.0.1:{etcd_server.client_port}")
    try:
        revision = await store.create("/multi/a", b"v")
        assert (await store.get("/multi/a")).mod_revision == revision
    finally:
        await store.close()


async def test_watch_resumes_after_etcd_restart_without_loss_or_duplicates(
    etcd_server: EtcdServer, store: Store
) -> None:
    watch = store.watch("/r/", after_revision=await store.current_revision())
    for i in range(5):
        await store.create(f"/r/before-{i}", b"v")
    seen = [await next_event(watch) for _ in range(2)]
    # Kill etcd in the middle of a burst of writes: some are committed before the watch receives them,
    # some fail, some wait for the restart. Whatever etcd ends up with must arrive exactly once.
    racing = [asyncio.create_task(store.create(f"/r/racing-{i:02}", b"v")) for i in range(20)]
    await asyncio.sleep(0.005)
    await asyncio.to_thread(etcd_server.stop)
    await asyncio.to_thread(etcd_server.start)
    await asyncio.gather(*racing, return_exceptions=True)
    for i in range(5):
        await store.create(f"/r/after-{i}", b"v")
    committed = sorted(kv.mod_revision for kv in (await store.list("/r/")).items)

    seen += [await next_event(watch, within=15) for _ in range(len(committed) - 2)]

    assert [e.revision for e in seen] == committed
    assert all(e.type is EventType.CREATED for e in seen)
    with pytest.raises(TimeoutError):  # and nothing arrives twice
        await next_event(watch, within=0.5)
    await watch.close()


async def test_lease_expiry_produces_a_deleted_event(store: Store) -> None:
    revision = await store.create("/ttl/a", b"short-lived", ttl=1)
    watch = store.watch("/ttl/", after_revision=revision)

    event = await next_event(watch, within=10)

    assert event.type is EventType.DELETED
    assert event.kv.key == "/ttl/a" and event.kv.value == b"short-lived" and event.kv.mod_revision > revision
    assert event.prev is not None and event.prev.mod_revision == revision
    with pytest.raises(NotFound):
        await store.get("/ttl/a")
    await watch.close()


async def test_long_ttls_share_a_lease_and_an_update_without_ttl_drops_it(
    etcd_server: EtcdServer, store: Store
) -> None:
    first = await store.create("/events/a", b"a", ttl=3600)
    await store.create("/events/b", b"b", ttl=3600)
    await store.update("/events/a", b"a2", expected_revision=first)

    async with aetcd.Client(port=etcd_server.client_port, host="127.0.0.1") as raw:
        leases = [(await raw.get(k)).lease for k in (b"/events/a", b"/events/b")]
        remaining = (await raw.get_lease_info(leases[1])).TTL

    assert leases[0] == 0  # updated without a TTL: the key no longer expires
    assert leases[1] != 0 and 3600 <= remaining <= 3660


async def test_expired_names_the_compact_revision_made_by_another_client(
    etcd_server: EtcdServer, store: Store
) -> None:
    old = await store.create("/c/a", b"1")
    await store.update("/c/a", b"2", expected_revision=old)
    compacted_at = await store.current_revision()
    other = await open_store(etcd_server.endpoint)
    try:
        await other.compact(compacted_at)
    finally:
        await other.close()

    with pytest.raises(Expired) as listed:
        await store.list("/c/", revision=old)
    assert listed.value.compact_revision == compacted_at
    with pytest.raises(Expired) as watched:
        await next_event(store.watch("/c/", after_revision=old))
    assert watched.value.compact_revision == compacted_at


async def test_history_replay_is_paced_by_the_consumer(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broadcast, "WATCH_QUEUE_SIZE", 5)
    start = await store.current_revision()
    written = [await store.create(f"/h/{i:02}", b"v") for i in range(30)]
    watch = store.watch("/h/", after_revision=start)
    await asyncio.sleep(0.3)  # etcd has sent the whole history by now

    assert [(await next_event(watch)).revision for _ in written] == written
    await watch.close()


async def test_a_consumer_lagging_behind_live_events_is_cut_off(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broadcast, "WATCH_QUEUE_SIZE", 5)
    watch = store.watch("/live/", after_revision=0)
    for i in range(20):
        await store.create(f"/live/{i:02}", b"v")
    await asyncio.sleep(0.3)

    with pytest.raises(WatchCutOff):
        for _ in range(20):
            await next_event(watch)
    await watch.close()
