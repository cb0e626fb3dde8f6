"""Per-key exponential back-off with the kubelet's rules (its flowcontrol.Backoff).

Crash loops use key "<pod uid>/<container>" and the container's finishedAt as the event time; image pulls use
"<pod uid>/<image>" and now. The first failure is retried at once and arms `initial`; every failure seen while
armed doubles the delay up to `cap`; an entry last updated more than 2 * cap before the new event (a container
that ran ~10 minutes) starts over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Entry:
    delay: float
    updated: float


class Backoff:
    def __init__(
        self, *, initial: float = 10.0, cap: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.initial = initial
        self.cap = cap
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def _expired(self, entry: _Entry, event_time: float) -> bool:
        return event_time - entry.updated > 2 * self.cap

    def next(self, key: str, event_time: float) -> None:
        """Record a (re)try at `event_time`: arm the initial delay, or double it."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            self._entries[key] = _Entry(self.initial, event_time)
        else:
            self._entries[key] = _Entry(min(entry.delay * 2, self.cap), event_time)

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.delay if entry else 0.0

    def remaining(self, key: str, event_time: float) -> float:
        """Seconds left in the back-off that started at `event_time` (0: not backing off)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            return 0.0
        return max(0.0, event_time + entry.delay - self.clock())

    def remaining_since_update(self, key: str) -> float:
        entry = self._entries.get(key)
        return 0.0 if entry is None else max(0.0, entry.updated + entry.delay - self.clock())

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]


def go_duration(seconds: float) -> str:
    """Go's time.Duration text for whole seconds: 10s, 1m20s, 5m0s (as in the kubelet's messages)."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
