"""Image garbage collection, as the kubelet does it: when the image filesystem is fuller than the high
threshold (85 %), remove images no container uses — least recently used first — until usage is below the low
threshold (80 %). The built-in busybox image is kept: it is what an offline node starts pods from.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from kubelite.agent.images.store import ImageNotKnown, ImageStore

log = logging.getLogger(__name__)

HIGH_THRESHOLD_PERCENT = 85
LOW_THRESHOLD_PERCENT = 80


def disk_usage_percent(path: Path) -> float:
    stats = os.statvfs(path)
    total = stats.f_blocks * stats.f_frsize
    return 0.0 if total == 0 else 100.0 * (total - stats.f_bavail * stats.f_frsize) / total


class ImageGarbageCollector:
    def __init__(
        self,
        store: ImageStore,
        images_in_use: Callable[[], Awaitable[set[str]]],
        *,
        keep: frozenset[str] = frozenset(),
        high: float = HIGH_THRESHOLD_PERCENT,
        low: float = LOW_THRESHOLD_PERCENT,
        usage: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.images_in_use = images_in_use
        self.keep = keep
        self.high, self.low = high, low
        self.usage = usage or (lambda: disk_usage_percent(store.root))
        self._last_used: dict[str, float] = {}  # reference -> when a container last used it (monotonic)

    async def collect(self) -> list[str]:
        """Remove unused images if the disk is past the high threshold; returns the references removed."""
        in_use = await self.images_in_use()
        now = time.monotonic()
        for reference in in_use:
            self._last_used[reference] = now
        if await asyncio.to_thread(self.usage) < self.high:
            return []
        candidates = [r.reference for r in self.store.list() if r.reference not in in_use | self.keep]
        candidates.sort(key=lambda reference: self._last_used.get(reference, 0.0))
        removed: list[str] = []
        for reference in candidates:
            try:
                await self.store.remove(reference)
            except ImageNotKnown:
                continue  # removed meanwhile (kubelite image rm)
            await asyncio.to_thread(self.store.garbage_collect)
            removed.append(reference)
            self._last_used.pop(reference, None)
            if await asyncio.to_thread(self.usage) < self.low:
                break
        if removed:
            log.info("image filesystem past %s%% full: removed unused images %s", self.high, removed)
        return removed

    async def run(self, interval: float = 300.0) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.collect()
