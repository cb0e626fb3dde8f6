"""The scheduling queue: which pending pod to decide on next.

- active: pods ready for a decision, highest spec.priority first, then oldest first;
- unschedulable: pods no node fit the last time. They wait for a cluster change that might help (a node
  added or changed, a pod gone, a volume bound) — `move_all_to_active()` — or for the periodic flush, and
  come back sooner when their own spec or labels change;
- backing off: pods whose bind failed; they return to active after a per-pod delay (1 s doubling to 10 s).

A pod is in at most one of these. `pop()` waits for the next active pod; a pod being decided on or bound is
in none of them (the scheduler owns it until it reports the outcome).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Mapping
from typing import Any

Pod = Mapping[str, Any]

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0


def _priority(pod: Pod) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


def _shape(pod: Pod) -> tuple[Any, Any]:
    """What can make an unschedulable pod fit: its spec and labels (not its status)."""
    return pod.get("spec"), (pod.get("metadata") or {}).get("labels")


class SchedulingQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str]] = []
        self._active: dict[str, Pod] = {}
        self._unschedulable: dict[str, Pod] = {}
        self._backing_off: dict[str, Pod] = {}
        self._attempts: dict[str, int] = {}
        self._sequence = itertools.count()
        self._wakeup = asyncio.Event()

    def __len__(self) -> int:
        return len(self._active) + len(self._unschedulable) + len(self._backing_off)

    @property
    def active_count(self) -> int:
        return len(self._active)

    def add(self, key: str, pod: Pod) -> None:
        """A pending pod appeared or changed."""
        if key in self._active:
            self._active[key] = pod
        elif key in self._backing_off:
            self._backing_off[key] = pod
        elif key in self._unschedulable:
            if _shape(self._unschedulable[key]) == _shape(pod):
                self._unschedulable[key] = pod
            else:
                del self._unschedulable[key]
                self._activate(key, pod)
        else:
            self._activate(key, pod)

    def _activate(self, key: str, pod: Pod) -> None:
        self._active[key] = pod
        heapq.heappush(self._heap, (-_priority(pod), next(self._sequence), key))
        self._wakeup.set()

    def remove(self, key: str) -> None:
        """The pod was bound (by anyone) or deleted."""
        self._active.pop(key, None)  # its heap entry is skipped when popped
        self._unschedulable.pop(key, None)
        self._backing_off.pop(key, None)
        self._attempts.pop(key, None)

    def contains(self, key: str) -> bool:
        return key in self._active or key in self._unschedulable or key in self._backing_off

    async def pop(self) -> tuple[str, Pod]:
        while True:
            while self._heap:
                _, _, key = heapq.heappop(self._heap)
                pod = self._active.pop(key, None)
                if pod is not None:
                    return key, pod
            self._wakeup.clear()
            await self._wakeup.wait()

    def unschedulable(self, key: str, pod: Pod) -> None:
        self._unschedulable[key] = pod

    def back_off(self, key: str, pod: Pod) -> None:
        """Retry after a failed bind, later each time."""
        attempts = self._attempts.get(key, 0)
        self._attempts[key] = attempts + 1
        self._backing_off[key] = pod
        delay = min(INITIAL_BACKOFF * 2**attempts, MAX_BACKOFF)
        asyncio.get_running_loop().call_later(delay, self._end_back_off, key)

    def _end_back_off(self, key: str) -> None:
        pod = self._backing_off.pop(key, None)
        if pod is not None:
            self._activate(key, pod)

    def done(self, key: str) -> None:
        """The pod was bound: forget its attempts."""
        self._attempts.pop(key, None)

    def move_all_to_active(self) -> int:
        moved = len(self._unschedulable)
        pending, self._unschedulable = self._unschedulable, {}
        for key, pod in pending.items():
            self._activate(key, pod)
        return moved
