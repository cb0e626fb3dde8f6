"""Deletes TTL keys of the embedded store when they expire (what leases do for etcd).

The store tells the reaper about every write (its key, revision and expiry); the reaper sleeps until the
earliest expiry and then asks the writer to expire the key, which writes an ordinary tombstone (a DELETED
event) only if the key's current value has really expired, so a newer value is never deleted.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from kubelite.store.base import StoreError

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class Reaper:
    def __init__(
        self, expire: Callable[[str], Awaitable[None]], *, expiring: Iterable[tuple[float, str, int]]
    ) -> None:
        self._expire = expire
        self._deadlines: dict[str, tuple[float, int]] = {}  # key -> (expiry, revision) of its live value
        # May hold stale entries (keys rewritten since); they are skipped when popped.
        self._heap: list[tuple[float, str, int]] = []
        self._changed = asyncio.Event()
        for expiry, key, revision in expiring:
            self.note(key, revision, expiry)

    def note(self, key: str, revision: int, expiry: float | None) -> None:
        """A committed write: `key` is now at `revision`, expiring at `expiry` (None: never, or deleted)."""
        if expiry is None:
            self._deadlines.pop(key, None)
            return
        self._deadlines[key] = (expiry, revision)
        heapq.heappush(self._heap, (expiry, key, revision))
        if len(self._heap) > 2 * len(self._deadlines) + 64:
            # Frequently rewritten TTL keys (Events) leave stale entries: rebuild rather than grow.
            self._heap = [(e, k, r) for k, (e, r) in self._deadlines.items()]
            heapq.heapify(self._heap)
        if self._heap[0][1] == key:
            self._changed.set()  # earlier than what run() is sleeping for

    def _pop_due(self, now: float) -> list[str]:
        due = []
        while self._heap and self._heap[0][0] <= now:
            expiry, key, revision = heapq.heappop(self._heap)
            if self._deadlines.get(key) == (expiry, revision):
                del self._deadlines[key]
                due.append(key)
        return due

    async def run(self) -> None:
        while True:
            due = self._pop_due(time.time())
            if due:
                results = await asyncio.gather(*(self._expire(key) for key in due), return_exceptions=True)
                for key, result in zip(due, results, strict=True):
                    if isinstance(result, StoreError):
                        log.warning("expiring %s failed (%s); retrying", key, result)
                        self.note(key, 0, time.time() + RETRY_SECONDS)
                    elif isinstance(result, BaseException):
                        raise result
            self._changed.clear()
            delay = self._heap[0][0] - time.time() if self._heap else None
            try:
                await asyncio.wait_for(self._changed.wait(), delay)
            except TimeoutError:
                pass
