"""What a controller still waits to see in its informer cache after writing pods (upstream "expectations").

A controller that just created 5 pods must not create 5 more because its cache does not show them yet. Before
writing it records what it expects (so many creations, these pods' deletions); the pod informer's handlers
lower the counts as the watch shows them, and reconcile leaves the pod count alone until nothing is pending.
Expectations lapse after `ttl` seconds, so a lost watch event cannot wedge a controller forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EXPECTATIONS_TTL = 300.0  # upstream's ExpectationsTimeout


@dataclass
class _Pending:
    creations: int = 0
    deletions: set[str] = field(default_factory=set)
    since: float = 0.0


class Expectations:
    """Per controller key: creations still to be seen and the pod keys whose deletion is still to be seen."""

    def __init__(self, *, ttl: float = EXPECTATIONS_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._pending: dict[str, _Pending] = {}

    def expect_creations(self, key: str, count: int) -> None:
        self._pending[key] = _Pending(creations=count, since=self._clock())

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        self._pending[key] = _Pending(deletions=set(pod_keys), since=self._clock())

    def creation_observed(self, key: str) -> None:
        pending = self._pending.get(key)
        if pending is not None and pending.creations > 0:
            pending.creations -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        pending = self._pending.get(key)
        if pending is not None:
            pending.deletions.discard(pod_key)

    def satisfied(self, key: str) -> bool:
        """True when nothing is pending for `key` (or what was pending has lapsed)."""
        pending = self._pending.get(key)
        if pending is None:
            return True
        if pending.creations <= 0 and not pending.deletions:
            return True
        return self._clock() - pending.since > self.ttl

    def forget(self, key: str) -> None:
        self._pending.pop(key, None)
