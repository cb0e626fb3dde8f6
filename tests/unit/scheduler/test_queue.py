"""The scheduling queue: priority order, unschedulable pods parked until something changes, back-off."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.scheduler import queue as queue_module
from kubelite.scheduler.queue import SchedulingQueue
from tests.unit.scheduler.builders import pod


async def test_higher_priority_first_then_oldest() -> None:
    q = SchedulingQueue()
    q.add("default/a", pod("a"))
    q.add("default/b", pod("b", priority=100))
    q.add("default/c", pod("c"))
    assert [(await q.pop())[0] for _ in range(3)] == ["default/b", "default/a", "default/c"]


async def test_unschedulable_pods_wait_for_a_cluster_change_or_their_own() -> None:
    q = SchedulingQueue()
    q.unschedulable("default/a", pod("a"))
    q.add("default/a", pod("a"))  # same spec: a status change alone does not help
    assert q.active_count == 0
    q.add("default/a", pod("a", nodeSelector={"disk": "ssd"}))
    assert q.active_count == 1
    key, _ = await q.pop()
    q.unschedulable(key, pod("a"))
    assert q.move_all_to_active() == 1
    assert (await q.pop())[0] == "default/a"


async def test_removed_pods_are_never_popped() -> None:
    q = SchedulingQueue()
    q.add("default/a", pod("a"))
    q.add("default/b", pod("b"))
    q.remove("default/a")
    assert (await q.pop())[0] == "default/b"
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await q.pop()


async def test_failed_binds_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_module, "INITIAL_BACKOFF", 0.01)
    q = SchedulingQueue()
    q.back_off("default/a", pod("a"))
    assert q.active_count == 0 and q.contains("default/a")
    async with asyncio.timeout(1):
        assert (await q.pop())[0] == "default/a"
