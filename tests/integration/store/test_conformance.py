"""The store contract (kubelite/store/base.py), run against every driver through the `store` fixture.

Only the contract is tested here, never a driver's internals. Revisions are compared, never assumed to
start at a particular number; the one arithmetic assumption is that a single write advances it by one.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from kubelite.store import (
    AlreadyExists,
    Conflict,
    Event,
    EventType,
    Expired,
    FutureRevision,
    KeyValue,
    ListResult,
    NotFound,
    Store,
    Watch,
    WatchCutOff,
    broadcast,
)


async def take(watch: Watch, count: int, *, within: float = 5.0) -> list[Event]:
    events: list[Event] = []
    async with asyncio.timeout(within):
        async for event in watch:
            events.append(event)
            if len(events) == count:
                break
    return events


async def take_until(watch: Watch, revision: int, *, within: float = 10.0) -> list[Event]:
    """Events up to and including `revision`."""
    events: list[Event] = []
    async with asyncio.timeout(within):
        async for event in watch:
            events.append(event)
            if event.revision >= revision:
                break
    return events


async def test_create_get_update_delete(store: Store) -> None:
    before = await store.current_revision()
    created = await store.create("/reg/a", b"\x00one\xff")
    assert created > before
    assert await store.get("/reg/a") == KeyValue("/reg/a", b"\x00one\xff", created, created)
    updated = await store.update("/reg/a", b"two", expected_revision=created)
    assert updated > created
    assert await store.get("/reg/a") == KeyValue("/reg/a", b"two", created, updated)
    assert await store.current_revision() == updated
    deleted = await store.delete("/reg/a", expected_revision=updated)
    assert deleted.key == "/reg/a" and deleted.value == b"two" and deleted.create_revision == created
    assert deleted.mod_revision > updated
    assert await store.current_revision() == deleted.mod_revision


async def test_compare_and_swap_errors(store: Store) -> None:
    first = await store.create("/cas/a", b"1")
    with pytest.raises(AlreadyExists):
        await store.create("/cas/a", b"again")
    second = await store.update("/cas/a", b"2", expected_revision=first)
    with pytest.raises(Conflict) as conflict:
        await store.update("/cas/a", b"stale", expected_revision=first)
    assert conflict.value.current == KeyValue("/cas/a", b"2", first, second)
    with pytest.raises(Conflict):
        await store.delete("/cas/a", expected_revision=first)
    assert (await store.get("/cas/a")).value == b"2"
    with pytest.raises(NotFound):
        await store.update("/cas/missing", b"x", expected_revision=first)
    with pytest.raises(NotFound):
        await store.delete("/cas/missing")
    with pytest.raises(NotFound):
        await store.get("/cas/missing")
    # Without an expected revision a delete is unconditional.
    assert (await store.delete("/cas/a")).value == b"2"


async def test_deleted_keys_vanish_and_can_be_recreated(store: Store) -> None:
    first = await store.create("/tomb/a", b"v1")
    await store.create("/tomb/b", b"b")
    watch = store.watch("/tomb/", after_revision=first)
    gone = await store.delete("/tomb/a")
    with pytest.raises(NotFound):
        await store.get("/tomb/a")
    assert [kv.key for kv in (await store.list("/tomb/")).items] == ["/tomb/b"]
    with pytest.raises(NotFound):
        await store.update("/tomb/a", b"x", expected_revision=first)
    with pytest.raises(NotFound):
        await store.delete("/tomb/a")
    again = await store.create("/tomb/a", b"v2")
    assert await store.get("/tomb/a") == KeyValue("/tomb/a", b"v2", again, again)

    created_b, deleted_a, recreated_a = await take(watch, 3)
    await watch.close()
    assert created_b.type is EventType.CREATED and created_b.kv.key == "/tomb/b"
    assert deleted_a.type is EventType.DELETED
    assert deleted_a.kv == gone
    assert deleted_a.prev == KeyValue("/tomb/a", b"v1", first, first)
    assert recreated_a.type is EventType.CREATED and recreated_a.prev is None
    assert recreated_a.kv == KeyValue("/tomb/a", b"v2", again, again)


async def test_list_is_in_key_order_under_its_prefix_only(store: Store) -> None:
    for key in ["/ls/b", "/ls/a/x", "/ls/c", "/ls/a", "/lsx", "/l", "/ls0"]:
        await store.create(key, key.encode())
    result = await store.list("/ls/")
    assert [kv.key for kv in result.items] == ["/ls/a", "/ls/a/x", "/ls/b", "/ls/c"]
    assert all(kv.value == kv.key.encode() for kv in result.items)
    assert result.revision == await store.current_revision()
    assert not result.more


async def test_list_at_an_older_revision(store: Store) -> None:
    a1 = await store.create("/old/a", b"a1")
    await store.create("/old/b", b"b1")
    then = await store.current_revision()
    a2 = await store.update("/old/a", b"a2", expected_revision=a1)
    await store.delete("/old/b")
    await store.create("/old/c", b"c1")

    past = await store.list("/old/", revision=then)
    assert past.revision == then
    assert [(kv.key, kv.value) for kv in past.items] == [("/old/a", b"a1"), ("/old/b", b"b1")]
    assert past.items[0].mod_revision == a1
    now = await store.list("/old/")
    assert [(kv.key, kv.value, kv.mod_revision) for kv in now.items] == [
        ("/old/a", b"a2", a2),
        ("/old/c", b"c1", now.items[1].mod_revision),
    ]


async def test_pages_at_the_first_pages_revision_stay_consistent_under_writes(store: Store) -> None:
    for i in range(40):
        await store.create(f"/page/k{i:02d}", f"v{i}".encode())
    await store.create("/pagf", b"outside the prefix")
    expected = await store.list("/page/")

    first = await store.list("/page/", limit=7)
    assert first.more and len(first.items) == 7

    async def churn() -> None:
        # Keys appearing and disappearing among the listed ones while the pages are read.
        while True:
            for i in range(40):
                await store.create(f"/page/k{i:02d}-churn", b"")
            for i in range(40):
                await store.delete(f"/page/k{i:02d}-churn")

    churning = asyncio.create_task(churn())
    try:
        items = await read_pages_while_writing(store, first, expected)
    finally:
        churning.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await churning
    assert items == expected.items
    assert (await store.list("/page/", limit=100)).revision > first.revision


async def read_pages_while_writing(store: Store, first: ListResult, expected: ListResult) -> list[KeyValue]:
    """The rest of the pages after `first`, at its revision, changing keys between pages."""
    items = list(first.items)
    more = first.more
    while more:
        # Change keys that this page or later ones show, and add one to the next page.
        cursor = items[-1].key
        later = [kv.key for kv in expected.items if kv.key > cursor]
        current = await store.get(cursor)
        await store.update(cursor, b"changed", expected_revision=current.mod_revision)
        await store.create(f"{cursor}-new", b"created after the first page")
        if later:
            await store.delete(later[-1])
            await store.create(later[-1], b"recreated")
        page = await store.list("/page/", limit=7, start_after=cursor, revision=first.revision)
        assert page.revision == first.revision
        assert len(page.items) <= 7
        items.extend(page.items)
        more = page.more
    return items


async def test_limit_and_more(store: Store) -> None:
    for key in ["/lim/a", "/lim/b", "/lim/c"]:
        await store.create(key, b"")
    await store.delete("/lim/b")
    page = await store.list("/lim/", limit=1)
    assert [kv.key for kv in page.items] == ["/lim/a"] and page.more
    page = await store.list("/lim/", limit=1, start_after="/lim/a", revision=page.revision)
    assert [kv.key for kv in page.items] == ["/lim/c"] and not page.more
    page = await store.list("/lim/", limit=2)
    assert [kv.key for kv in page.items] == ["/lim/a", "/lim/c"] and not page.more


async def test_watch_from_the_past_replays_history_with_previous_values(store: Store) -> None:
    start = await store.create("/setup", b"")  # (a fresh store may be at revision 0, which means "now")
    a1 = await store.create("/wp/a", b"1")
    a2 = await store.update("/wp/a", b"2", expected_revision=a1)
    await store.create("/wpx", b"not under the prefix")
    deleted = await store.delete("/wp/a")
    watch = store.watch("/wp/", after_revision=start)
    events = await take(watch, 3)
    after_a1 = store.watch("/wp/", after_revision=a1)
    later = await take(after_a1, 2)
    await watch.close()
    await after_a1.close()

    assert [e.type for e in events] == [EventType.CREATED, EventType.UPDATED, EventType.DELETED]
    assert [e.revision for e in events] == [a1, a2, deleted.mod_revision]
    assert events[0].prev is None and events[0].kv == KeyValue("/wp/a", b"1", a1, a1)
    assert events[1].prev == KeyValue("/wp/a", b"1", a1, a1)
    assert events[1].kv == KeyValue("/wp/a", b"2", a1, a2)
    assert events[2].prev == KeyValue("/wp/a", b"2", a1, a2)
    assert events[2].kv == deleted
    assert later == events[1:]


async def test_watch_from_now_sees_only_later_changes(store: Store) -> None:
    await store.create("/wn/before", b"")
    watch = store.watch("/wn/", after_revision=0)
    revision = await store.create("/wn/after", b"")
    [event] = await take(watch, 1)
    assert event.kv.key == "/wn/after" and event.revision == revision
    await watch.close()


async def test_closing_a_watch_ends_its_iteration(store: Store) -> None:
    watch = store.watch("/wc/", after_revision=0)

    async def drain() -> list[Event]:
        return [event async for event in watch]

    consumer = asyncio.create_task(drain())
    await store.create("/wc/a", b"")
    await asyncio.sleep(0.2)
    await watch.close()
    async with asyncio.timeout(5):
        events = await consumer
    assert [e.kv.key for e in events] in (["/wc/a"], [])


async def test_concurrent_writers_are_delivered_exactly_once_in_order(store: Store) -> None:
    start = await store.create("/setup", b"")
    from_start = store.watch("/cc/", after_revision=start)
    written: list[tuple[int, str, EventType]] = []
    middle = asyncio.Event()

    async def writer(n: int) -> None:
        for i in range(20):
            key = f"/cc/{n}/{i}"
            created = await store.create(key, b"c")
            written.append((created, key, EventType.CREATED))
            updated = await store.update(key, b"u", expected_revision=created)
            written.append((updated, key, EventType.UPDATED))
            if i % 3 == 0:
                deleted = await store.delete(key, expected_revision=updated)
                written.append((deleted.mod_revision, key, EventType.DELETED))
            if n == 0 and i == 10:
                middle.set()

    async def consume(watch: Watch, until: asyncio.Future[int]) -> list[Event]:
        events: list[Event] = []
        async for event in watch:
            events.append(event)
            if until.done() and event.revision >= until.result():
                break
        return events

    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    consumers = [asyncio.create_task(consume(from_start, done))]
    writers = [asyncio.create_task(writer(n)) for n in range(16)]
    await middle.wait()
    mid_revision = await store.current_revision()
    from_middle = store.watch("/cc/", after_revision=mid_revision)
    consumers.append(asyncio.create_task(consume(from_middle, done)))
    async with asyncio.timeout(30):
        await asyncio.gather(*writers)
        done.set_result(await store.current_revision())
        # Nudge consumers whose last event came before `done` was set.
        await store.create("/cc/last", b"")
        seen_from_start, seen_from_middle = await asyncio.gather(*consumers)
    await from_start.close()
    await from_middle.close()

    expected = sorted(written)
    assert [(e.revision, e.kv.key, e.type) for e in seen_from_start if e.kv.key != "/cc/last"] == expected
    assert [(e.revision, e.kv.key, e.type) for e in seen_from_middle if e.kv.key != "/cc/last"] == [
        w for w in expected if w[0] > mid_revision
    ]
    late = store.watch("/cc/", after_revision=start)
    assert [(e.revision, e.kv.key, e.type) for e in await take(late, len(expected), within=10)] == expected
    await late.close()


async def test_a_slow_watcher_is_cut_off(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Drivers read this module-level bound when a watch starts.
    monkeypatch.setattr(broadcast, "WATCH_QUEUE_SIZE", 16)
    slow = store.watch("/slow/", after_revision=0)
    await store.create("/slow/first", b"")
    assert len(await take(slow, 1)) == 1  # the watch is live now

    async def write(n: int) -> None:
        for i in range(10):
            await store.create(f"/slow/{n}/{i}", b"x" * 100)

    await asyncio.gather(*(write(n) for n in range(16)))
    await asyncio.sleep(0.3)  # let a driver with its own delivery task overflow the queue
    other = store.watch("/slow/", after_revision=0)  # a new watch is unaffected
    received = 0
    with pytest.raises(WatchCutOff):
        async with asyncio.timeout(5):
            async for _ in slow:
                received += 1
    assert received < 160
    revision = await store.create("/slow/after", b"")
    [event] = await take(other, 1)
    assert event.revision == revision
    await other.close()
    await slow.close()


async def test_compaction_expires_old_revisions_and_keeps_live_keys(store: Store) -> None:
    a1 = await store.create("/cmp/a", b"a1")
    b1 = await store.create("/cmp/b", b"b1")
    gone = await store.create("/cmp/gone", b"")
    await store.delete("/cmp/gone")
    mark = await store.current_revision()
    await store.compact(mark)
    a2 = await store.update("/cmp/a", b"a2", expected_revision=a1)
    deleted_b = await store.delete("/cmp/b")

    with pytest.raises(Expired):
        await store.list("/cmp/", revision=gone)
    too_old = store.watch("/cmp/", after_revision=a1)
    with pytest.raises(Expired):
        await take(too_old, 1)
    await too_old.close()
    at_mark = await store.list("/cmp/", revision=mark)
    assert at_mark.items == [KeyValue("/cmp/a", b"a1", a1, a1), KeyValue("/cmp/b", b"b1", b1, b1)]
    assert (await store.list("/cmp/")).items == [KeyValue("/cmp/a", b"a2", a1, a2)]
    # History after the compact revision is intact, previous values included.
    watch = store.watch("/cmp/", after_revision=mark)
    updated, deleted = await take(watch, 2)
    await watch.close()
    assert updated.prev == KeyValue("/cmp/a", b"a1", a1, a1) and updated.kv.value == b"a2"
    assert deleted.kv == deleted_b and deleted.prev == KeyValue("/cmp/b", b"b1", b1, b1)
    # A key deleted before the compaction can be created again.
    again = await store.create("/cmp/gone", b"back")
    assert (await store.get("/cmp/gone")).mod_revision == again
    await store.compact(await store.current_revision())
    assert [kv.key for kv in (await store.list("/cmp/")).items] == ["/cmp/a", "/cmp/gone"]


async def test_ttl_keys_expire_with_a_delete_event(store: Store) -> None:
    watch = store.watch("/ttl/", after_revision=0)
    created = await store.create("/ttl/short", b"bye", ttl=1)
    await store.create("/ttl/forever", b"stay")
    start = asyncio.get_running_loop().time()
    events = await take(watch, 3, within=6)
    await watch.close()
    assert asyncio.get_running_loop().time() - start > 0.5
    deleted = events[2]
    assert deleted.type is EventType.DELETED and deleted.kv.key == "/ttl/short"
    assert deleted.prev == KeyValue("/ttl/short", b"bye", created, created)
    with pytest.raises(NotFound):
        await store.get("/ttl/short")
    assert [kv.key for kv in (await store.list("/ttl/")).items] == ["/ttl/forever"]
    await store.create("/ttl/short", b"again")


async def test_a_future_revision_is_waited_for_then_refused(store: Store) -> None:
    current = await store.current_revision()

    async def write_soon() -> None:
        await asyncio.sleep(0.2)
        await store.create("/fut/a", b"")

    writing = asyncio.create_task(write_soon())
    result = await store.list("/fut/", revision=current + 1)
    await writing
    assert result.revision == current + 1 and [kv.key for kv in result.items] == ["/fut/a"]

    far = await store.current_revision() + 1000
    with pytest.raises(FutureRevision) as error:
        async with asyncio.timeout(10):
            await store.list("/fut/", revision=far)
    assert error.value.current_revision < far
