"""When to compact: keep the last few minutes of history and at least some number of revisions.

Shared by every driver: it needs only `current_revision()` and `compact(revision)`. Without it, lease
renewals and status heartbeats would grow the history without bound. Watchers and paged lists that fall
further behind than the retention get Expired (HTTP 410) and re-list, as with Kubernetes on etcd.

The policy samples (time, revision) periodically and compacts to the newest sampled revision that is older
than the retention window and also at least `min_revisions` behind the current revision.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from kubelite.store.base import StoreError

log = logging.getLogger(__name__)

RETENTION_SECONDS = 300.0
MIN_REVISIONS = 1000
INTERVAL_SECONDS = 15.0


class Compactable(Protocol):
    async def current_revision(self) -> int: ...

    async def compact(self, revision: int) -> None: ...


class CompactionPolicy:
    """Pure bookkeeping (no I/O), so the rule is testable with a fake clock."""

    def __init__(self, *, retention: float = RETENTION_SECONDS, min_revisions: int = MIN_REVISIONS) -> None:
        self.retention = retention
        self.min_revisions = min_revisions
        self.compacted = 0  # the last revision compacted to
        self._samples: deque[tuple[float, int]] = deque()  # (time, revision), both increasing

    def observe(self, now: float, revision: int) -> int:
        """Record a sample; return the revision to compact to now, or 0 for none."""
        if not self._samples or revision > self._samples[-1][1]:
            self._samples.append((now, revision))
        cutoff = now - self.retention
        # The newest sample that has left the retention window; older ones are no longer needed.
        while len(self._samples) > 1 and self._samples[1][0] <= cutoff:
            self._samples.popleft()
        if not self._samples or self._samples[0][0] > cutoff:
            return 0
        target = min(self._samples[0][1], revision - self.min_revisions)
        return target if target > self.compacted else 0


class Compactor:
    """Run `run()` as a long-lived task (under the supervisor) next to the store it compacts."""

    def __init__(
        self,
        store: Compactable,
        *,
        retention: float = RETENTION_SECONDS,
        min_revisions: int = MIN_REVISIONS,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.policy = CompactionPolicy(retention=retention, min_revisions=min_revisions)
        self._interval = interval
        self._clock = clock

    async def run_once(self) -> int:
        """Sample and compact if due; returns the revision compacted to (0: none)."""
        revision = await self._store.current_revision()
        target = self.policy.observe(self._clock(), revision)
        if not target:
            return 0
        try:
            await self._store.compact(target)
        except StoreError as e:
            # A failed compaction only delays the next one; the store stays correct.
            log.warning("compaction to revision %d failed: %s", target, e)
            return 0
        self.policy.compacted = target
        log.info("compacted to revision %d (current %d)", target, revision)
        return target

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self._interval)
