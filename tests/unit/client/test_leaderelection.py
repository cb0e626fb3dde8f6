"""Leader election timing on a fake Lease and an injectable clock: who may take the lease, and when."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import Callable

import pytest

from kubelite.client import errors
from kubelite.client.leaderelection import LeaderElectionConfig, LeaderElector, LeaseRecord

CONFIG = LeaderElectionConfig(lease_duration=15, renew_deadline=10, retry_period=2)


class FakeClock:
    """Monotonic time moves only when told, or when someone sleeps (time passes while you sleep)."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.alarms: list[tuple[float, Callable[[], None]]] = []  # run once time reaches them

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime.datetime:
        return datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=self.mono)

    async def sleep(self, seconds: float) -> None:
        self.mono += seconds
        for alarm in [a for a in self.alarms if a[0] <= self.mono]:
            self.alarms.remove(alarm)
            alarm[1]()
        await asyncio.sleep(0)


class LeaseStore:
    def __init__(self) -> None:
        self.record: LeaseRecord | None = None
        self.version = 0


class FakeLock:
    """Compare-and-swap on a shared LeaseStore; `broken` makes every call fail like an unreachable server."""

    def __init__(self, store: LeaseStore) -> None:
        self.store = store
        self.broken = False

    def _check(self) -> None:
        if self.broken:
            raise errors.TransportError("connection refused")

    async def get(self) -> tuple[LeaseRecord, str] | None:
        self._check()
        current = self.store.record
        version = str(self.store.version)
        await asyncio.sleep(0)  # let a concurrent candidate read the same version
        return None if current is None else (current, version)

    async def create(self, record: LeaseRecord) -> str:
        self._check()
        if self.store.record is not None:
            raise errors.from_status(409, {"kind": "Status", "reason": "AlreadyExists", "code": 409})
        self.store.record, self.store.version = record, self.store.version + 1
        return str(self.store.version)

    async def update(self, record: LeaseRecord, resource_version: str) -> str:
        self._check()
        if resource_version != str(self.store.version):
            raise errors.from_status(409, {"kind": "Status", "reason": "Conflict", "code": 409})
        self.store.record, self.store.version = record, self.store.version + 1
        return str(self.store.version)


def elector(store: LeaseStore, identity: str, clock: FakeClock) -> LeaderElector:
    return LeaderElector(FakeLock(store), identity=identity, config=CONFIG, clock=clock)


async def test_only_an_expired_or_free_lease_changes_hands() -> None:
    store, clock = LeaseStore(), FakeClock()
    a, b = elector(store, "a", clock), elector(store, "b", clock)
    assert await a.try_acquire_or_renew()
    assert store.record is not None and store.record.holder_identity == "a"
    assert store.record.lease_transitions == 0 and store.record.lease_duration_seconds == 15
    assert not await b.try_acquire_or_renew() and b.leader == "a"

    # a keeps renewing: b never takes over, however long it waits
    for _ in range(20):
        clock.mono += 2
        assert await a.try_acquire_or_renew()
        assert not await b.try_acquire_or_renew()
    acquired = store.record.acquire_time
    assert store.record.renew_time != acquired  # renewals move renewTime, not acquireTime

    # a stops renewing: b takes over only lease_duration after it last saw the record change
    clock.mono += 14.9
    assert not await b.try_acquire_or_renew()
    clock.mono += 0.2
    assert await b.try_acquire_or_renew()
    assert store.record.holder_identity == "b" and store.record.lease_transitions == 1
    assert not await a.try_acquire_or_renew() and a.leader == "b"


async def test_expiry_is_judged_by_when_we_saw_a_change_not_by_the_holders_clock() -> None:
    store, clock = LeaseStore(), FakeClock()
    ancient = "2000-01-01T00:00:00.000000Z"  # the holder's wall clock is decades off
    store.record = LeaseRecord("far-away", 15, ancient, ancient, 3)
    b = elector(store, "b", clock)
    assert not await b.try_acquire_or_renew()
    clock.mono += 15.1
    assert await b.try_acquire_or_renew()
    assert store.record.lease_transitions == 4


async def test_of_two_racing_candidates_exactly_one_wins() -> None:
    store, clock = LeaseStore(), FakeClock()
    store.record = LeaseRecord("", 1, None, None, 0)  # released
    results = await asyncio.gather(*(elector(store, n, clock).try_acquire_or_renew() for n in "abc"))
    assert sorted(results) == [False, False, True]
    winner = "abc"[results.index(True)]
    assert store.record.holder_identity == winner


async def test_release_lets_a_successor_in_at_once() -> None:
    store, clock = LeaseStore(), FakeClock()
    a, b = elector(store, "a", clock), elector(store, "b", clock)
    assert await a.try_acquire_or_renew()
    await a.release()
    assert store.record is not None and store.record.holder_identity == ""
    assert await b.try_acquire_or_renew()
    await a.release()  # not ours any more: nothing happens
    assert store.record.holder_identity == "b"


async def test_a_leader_that_cannot_renew_stops_before_the_lease_expires() -> None:
    store, clock = LeaseStore(), FakeClock()
    a = elector(store, "a", clock)
    lock = a.lock
    assert isinstance(lock, FakeLock)
    stopped_at: list[float] = []

    async def lead() -> None:
        await asyncio.sleep(0)
        await asyncio.Event().wait()

    def unreachable() -> None:
        lock.broken = True

    clock.alarms.append((clock.mono + 7, unreachable))
    await asyncio.wait_for(a.run(lead, on_stopped_leading=lambda: stopped_at.append(clock.mono)), 5)
    assert not a.leading and len(stopped_at) == 1
    last_renewal = store.record.renew_time if store.record else None
    assert last_renewal is not None
    renewed = datetime.datetime.strptime(last_renewal, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC)
    renewed_mono = (renewed - datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)).total_seconds()
    unrenewed = stopped_at[0] - renewed_mono
    assert CONFIG.renew_deadline <= unrenewed < CONFIG.lease_duration
    assert store.record.holder_identity == "a"  # the release failed too: the lease will expire instead


async def test_the_leaders_work_ending_or_failing_releases_the_lease() -> None:
    store, clock = LeaseStore(), FakeClock()
    events: list[str] = []

    async def short_term() -> None:
        await clock.sleep(5)
        events.append("work done")

    await asyncio.wait_for(
        elector(store, "a", clock).run(short_term, on_stopped_leading=lambda: events.append("stopped")), 5
    )
    assert events == ["work done", "stopped"]
    assert store.record is not None and store.record.holder_identity == ""

    async def failing() -> None:
        raise RuntimeError("controller crashed")

    with pytest.raises(RuntimeError, match="controller crashed"):
        await asyncio.wait_for(elector(store, "b", clock).run(failing), 5)
    assert store.record.holder_identity == "" and store.record.lease_transitions == 1


async def test_cancelling_run_stops_the_work_and_releases() -> None:
    store, clock = LeaseStore(), FakeClock()
    a = elector(store, "a", clock)
    work_cancelled = asyncio.Event()

    async def lead() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            work_cancelled.set()

    task = asyncio.create_task(a.run(lead))
    for _ in range(50):
        await asyncio.sleep(0)
    assert a.leading
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert work_cancelled.is_set() and not a.leading
    assert store.record is not None and store.record.holder_identity == ""


def test_config_must_leave_room_between_deadline_and_expiry() -> None:
    with pytest.raises(ValueError):
        LeaderElectionConfig(lease_duration=10, renew_deadline=10, retry_period=2)
    with pytest.raises(ValueError):
        LeaderElectionConfig(lease_duration=15, renew_deadline=2, retry_period=2)
