"""Event recording: repeats fold into one Event's count, memory stays bounded, failures stay inside."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client import errors
from kubelite.client.eventcache import COMBINED_PREFIX, EventAggregator, SpamFilter
from kubelite.client.events import WARNING, EventCorrelator, EventRecorder

POD = {
    "kind": "Pod",
    "apiVersion": "v1",
    "metadata": {"name": "web-1", "namespace": "prod", "uid": "u-1", "resourceVersion": "7"},
}
NODE = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "n1", "uid": "u-n"}}


class FakeEvents:
    """Just enough of RestClient for events: create and merge-patch, kept in a dict."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[str] = []
        self.fail_next: BaseException | None = None

    async def create(self, res: Any, obj: dict[str, Any], *, namespace: str) -> dict[str, Any]:
        self.calls.append("create")
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.stored[(namespace, obj["metadata"]["name"])] = dict(obj)
        return obj

    async def patch(self, res: Any, name: str, patch: dict[str, Any], *, namespace: str) -> dict[str, Any]:
        self.calls.append("patch")
        if (namespace, name) not in self.stored:
            raise errors.from_status(404, None)
        self.stored[(namespace, name)].update(patch)
        return self.stored[(namespace, name)]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        self.now += datetime.timedelta(seconds=10)
        return self.now


@contextlib.asynccontextmanager
async def recorder(api: FakeEvents, **kwargs: Any) -> AsyncIterator[EventRecorder]:
    rec = EventRecorder(api, component="kubelite-scheduler", clock=Clock(), **kwargs)  # type: ignore[arg-type]
    task = asyncio.create_task(rec.run())
    try:
        yield rec
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_repeats_become_one_event_with_a_count() -> None:
    api = FakeEvents()
    async with recorder(api) as rec:
        for _ in range(3):
            rec.record(POD, reason="FailedScheduling", message="0/1 nodes available", event_type=WARNING)
        rec.record(POD, reason="FailedScheduling", message="0/2 nodes available", event_type=WARNING)
        await rec.flush()
    assert api.calls == ["create", "patch", "patch", "create"]
    first, second = api.stored.values()
    assert first["count"] == 3 and second["count"] == 1
    assert first["firstTimestamp"] == "2025-01-02T03:04:15Z"
    assert first["lastTimestamp"] == "2025-01-02T03:04:35Z"
    assert first["involvedObject"] == {
        "kind": "Pod",
        "namespace": "prod",
        "name": "web-1",
        "uid": "u-1",
        "apiVersion": "v1",
        "resourceVersion": "7",
    }
    assert first["type"] == "Warning" and first["source"] == {"component": "kubelite-scheduler"}
    assert first["metadata"]["namespace"] == "prod" and first["metadata"]["name"].startswith("web-1.")


async def test_cluster_scoped_objects_get_events_in_default() -> None:
    api = FakeEvents()
    async with recorder(api) as rec:
        rec.record(NODE, reason="NodeReady", message="ready")
        await rec.flush()
    ((namespace, _),) = api.stored
    assert namespace == "default"


async def test_an_expired_event_is_written_again_with_its_count() -> None:
    api = FakeEvents()
    async with recorder(api) as rec:
        rec.record(POD, reason="Pulled", message="image pulled")
        await rec.flush()
        api.stored.clear()  # the server expired it (events live an hour)
        rec.record(POD, reason="Pulled", message="image pulled")
        await rec.flush()
    assert api.calls == ["create", "patch", "create"]
    assert next(iter(api.stored.values()))["count"] == 2


async def test_write_failures_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    api = FakeEvents()
    api.fail_next = errors.TransportError("connection refused")
    async with recorder(api) as rec:
        rec.record(POD, reason="A", message="lost")
        rec.record(POD, reason="B", message="kept")
        await rec.flush()
    assert [e["reason"] for e in api.stored.values()] == ["B"]
    assert "cannot record event A" in caplog.text


async def test_a_full_queue_drops_instead_of_blocking(caplog: pytest.LogCaptureFixture) -> None:
    api = FakeEvents()
    rec = EventRecorder(api, component="c", max_pending=2)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        for i in range(5):
            rec.record(POD, reason="R", message=str(i))
    assert caplog.text.count("dropping event") == 3


def test_correlator_memory_is_bounded_least_recently_seen_first() -> None:
    correlator = EventCorrelator(max_entries=3)

    def event(message: str) -> dict[str, Any]:
        return {
            "metadata": {"name": f"e-{message}"},
            "involvedObject": {"name": "x"},
            "reason": "R",
            "message": message,
            "count": 1,
            "firstTimestamp": "t0",
        }

    assert [correlator.correlate(event(m)) for m in "abc"] == [False, False, False]
    repeat = event("a")
    assert correlator.correlate(repeat)  # "a" is now the most recently seen
    assert repeat["count"] == 2 and repeat["metadata"]["name"] == "e-a"
    assert not correlator.correlate(event("d"))  # evicts "b"
    assert len(correlator) == 3
    assert not correlator.correlate(event("b"))
    assert correlator.correlate(event("a"))


class ManualClock:
    """Moves only when the test says so."""

    def __init__(self) -> None:
        self.now = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


async def test_similar_events_are_combined_after_ten_then_counted_as_one() -> None:
    api = FakeEvents()
    clock = ManualClock()
    rec = EventRecorder(api, component="kubelet", clock=clock)  # type: ignore[arg-type]
    task = asyncio.create_task(rec.run())
    try:
        for i in range(12):
            rec.record(POD, reason="Failed", message=f"attempt {i} failed", event_type=WARNING)
            clock.advance(1)
        await rec.flush()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # Nine distinct messages are written as they are; the tenth on becomes one combined event, patched.
    assert api.calls == ["create"] * 10 + ["patch"] * 2
    combined = [e for e in api.stored.values() if e["message"].startswith(COMBINED_PREFIX)]
    assert len(combined) == 1 and len(api.stored) == 10
    assert combined[0]["message"] == COMBINED_PREFIX + "attempt 11 failed"
    assert combined[0]["count"] == 3


def event_about(name: str, message: str, reason: str = "R") -> dict[str, Any]:
    return {
        "metadata": {"name": f"{name}.1"},
        "involvedObject": {"kind": "Pod", "name": name, "uid": f"u-{name}"},
        "source": {"component": "c"},
        "type": "Normal",
        "reason": reason,
        "message": message,
        "count": 1,
        "firstTimestamp": "t0",
    }


def test_aggregation_starts_over_after_ten_quiet_minutes() -> None:
    aggregator = EventAggregator()
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    keys = [aggregator.aggregate(event_about("a", str(i)), start) for i in range(9)]
    assert keys == [None] * 9
    # Repeating a message already seen does not make the set of messages grow.
    assert aggregator.aggregate(event_about("a", "3"), start) is None
    # Another reason, or another object, is another kind of event.
    assert aggregator.aggregate(event_about("a", "x", reason="Other"), start) is None
    assert aggregator.aggregate(event_about("b", "x"), start) is None
    late = start + datetime.timedelta(minutes=10, seconds=1)
    assert aggregator.aggregate(event_about("a", "after a pause"), late) is None
    tenth = event_about("a", "z")
    for i in range(8):
        aggregator.aggregate(event_about("a", f"again {i}"), late)
    assert aggregator.aggregate(tenth, late) is not None
    assert tenth["message"] == COMBINED_PREFIX + "z"


def test_spam_filter_allows_a_burst_of_25_per_object_then_one_per_five_minutes() -> None:
    spam = SpamFilter()
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    assert all(spam.allow(event_about("a", str(i)), now) for i in range(25))
    assert not spam.allow(event_about("a", "26th"), now)
    assert spam.allow(event_about("b", "another object"), now)
    now += datetime.timedelta(minutes=4)
    assert not spam.allow(event_about("a", "still empty"), now)
    now += datetime.timedelta(minutes=1)
    assert spam.allow(event_about("a", "one token back"), now)
    assert not spam.allow(event_about("a", "and gone"), now)


async def test_spam_filtered_events_are_not_written() -> None:
    api = FakeEvents()
    clock = ManualClock()
    rec = EventRecorder(api, component="c", clock=clock, spam_filter=SpamFilter(burst=2))  # type: ignore[arg-type]
    task = asyncio.create_task(rec.run())
    try:
        for _ in range(4):
            rec.record(POD, reason="R", message="same")
        await rec.flush()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert api.calls == ["create", "patch"]
    assert next(iter(api.stored.values()))["count"] == 2
