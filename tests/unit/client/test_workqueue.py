"""Work queue semantics: merging adds, one worker per key, delays, rate limits and shutdown."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from kubelite.client.workqueue import ExponentialBackoff, MaxOf, ShutDown, TokenBucket, WorkQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def drain(queue: WorkQueue[str]) -> list[str]:
    """Everything immediately available, each marked done."""
    out = []
    while len(queue):
        key = await queue.get()
        out.append(key)
        queue.done(key)
    return out


async def test_repeated_adds_merge_and_order_is_first_add() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "c", "b", "a"):
        queue.add(key)
    assert len(queue) == 3
    assert await drain(queue) == ["a", "b", "c"]


async def test_a_key_in_process_is_not_handed_out_again_until_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    assert await queue.get() == "a"
    queue.add("a")  # changed while being processed
    queue.add("a")
    assert len(queue) == 0  # parked, not queued: no second worker may take it
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not second.done()
    queue.done("a")  # now it is queued once more
    assert await asyncio.wait_for(second, 1) == "a"
    queue.done("a")
    assert len(queue) == 0


async def test_concurrent_workers_never_process_one_key_at_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    running: set[str] = set()
    overlaps: list[str] = []
    processed: list[str] = []

    async def worker() -> None:
        while True:
            try:
                key = await queue.get()
            except ShutDown:
                return
            if key in running:
                overlaps.append(key)
            running.add(key)
            await asyncio.sleep(0.002)
            running.discard(key)
            processed.append(key)
            queue.done(key)

    workers = [asyncio.create_task(worker()) for _ in range(4)]
    for round_ in range(20):
        for key in ("x", "y", "z"):
            queue.add(key)
        await asyncio.sleep(0.001 * (round_ % 3))
    await asyncio.sleep(0.05)
    queue.shutdown()
    await asyncio.gather(*workers)
    assert overlaps == []
    assert {"x", "y", "z"} <= set(processed)
    assert len(processed) < 60  # adds merged


async def test_add_after_orders_by_ready_time_and_earliest_wins() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("late", 0.06)
    queue.add_after("early", 0.02)
    queue.add_after("middle", 0.04)
    queue.add_after("late", 0.2)  # a later time does not postpone it
    queue.add_after("middle", 0.01)  # an earlier time moves it up
    started = time.monotonic()
    got = [await asyncio.wait_for(queue.get(), 1) for _ in range(3)]
    assert got == ["middle", "early", "late"]
    assert 0.05 <= time.monotonic() - started < 0.5
    for key in got:
        queue.done(key)
    await asyncio.sleep(0.05)
    assert len(queue) == 0  # the superseded timers fired nothing


async def test_add_rate_limited_backs_off_per_key_until_forgotten() -> None:
    queue: WorkQueue[str] = WorkQueue(rate_limiter=ExponentialBackoff(base=0.01, cap=1.0))
    delays = []
    for _ in range(4):
        started = time.monotonic()
        queue.add_rate_limited("k")
        key = await asyncio.wait_for(queue.get(), 2)
        delays.append(time.monotonic() - started)
        queue.done(key)
    assert queue.num_requeues("k") == 4
    assert delays[0] >= 0.009 and delays[3] >= 0.079  # 10, 20, 40, 80 ms
    assert delays[3] > delays[0]
    queue.forget("k")
    assert queue.num_requeues("k") == 0


def test_exponential_backoff_grows_from_5ms_to_the_cap() -> None:
    backoff = ExponentialBackoff()
    delays = [backoff.when("k") for _ in range(22)]
    assert delays[:4] == [0.005, 0.01, 0.02, 0.04]
    assert delays[-1] == 1000.0 and all(a <= b for a, b in itertools.pairwise(delays))
    assert backoff.when("other") == 0.005  # per key
    for _ in range(200):
        backoff.when("k")
    assert backoff.when("k") == 1000.0
    backoff.forget("k")
    assert backoff.when("k") == 0.005


def test_token_bucket_allows_a_burst_then_ten_per_second() -> None:
    clock = FakeClock()
    bucket = TokenBucket(clock=clock)
    assert [bucket.when(i) for i in range(100)] == [0.0] * 100
    assert [round(bucket.when(i), 6) for i in range(3)] == [0.1, 0.2, 0.3]
    clock.now += 1.0  # ten tokens came back; three were already borrowed
    assert round(bucket.when("x"), 6) == 0.0 and round(bucket.when("y"), 6) == 0.0
    clock.now += 100.0  # refills, but never beyond the burst
    assert sum(bucket.when(i) == 0.0 for i in range(150)) == 100


def test_default_limit_is_the_max_of_backoff_and_bucket() -> None:
    clock = FakeClock()
    limiter = MaxOf(ExponentialBackoff(), TokenBucket(qps=10, burst=2, clock=clock))
    assert limiter.when("a") == 0.005  # backoff dominates while tokens last
    assert limiter.when("b") == 0.005
    assert round(limiter.when("c"), 6) == 0.1  # bucket empty: it dominates
    assert limiter.retries("a") == 1
    limiter.forget("a")
    assert limiter.retries("a") == 0


async def test_shutdown_wakes_getters_and_drops_everything() -> None:
    queue: WorkQueue[str] = WorkQueue()
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.add_after("later", 0.01)
    queue.shutdown()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(waiting, 1)
    queue.add("x")
    with pytest.raises(ShutDown):
        await queue.get()
    await asyncio.sleep(0.03)
    assert len(queue) == 0 and queue.shutting_down
