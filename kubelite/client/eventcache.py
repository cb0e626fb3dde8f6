"""The two filters client-go's event correlator puts before its repeat counting, with upstream's defaults.

`SpamFilter`: a token bucket per source and involved object (burst 25, one token back every 5 minutes); an
event finding the bucket empty is dropped, so one object in a crash loop cannot flood the API server.
`EventAggregator`: events that differ only in their message are "similar"; once 10 distinct messages of one
kind arrive with no 10-minute gap, each further one becomes a single "(combined from similar events): ..."
event, which the correlator then counts like any repeat. Both remember a bounded number of keys (least
recently used forgotten first), as upstream's LRU caches do.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

COMBINED_PREFIX = "(combined from similar events): "
MAX_ENTRIES = 4096
_OBJECT_FIELDS = ("kind", "namespace", "name", "uid", "apiVersion")
V = TypeVar("V")


def _source_object(event: Mapping[str, Any]) -> tuple[str, ...]:
    ref, source = event.get("involvedObject") or {}, event.get("source") or {}
    return (
        source.get("component", ""),
        source.get("host", ""),
        *(str(ref.get(f, "")) for f in _OBJECT_FIELDS),
    )


class _Lru(OrderedDict[tuple[str, ...], V]):
    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def touch(self, key: tuple[str, ...], value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.max_entries:
            self.popitem(last=False)


@dataclass
class _Bucket:
    tokens: float
    updated: datetime.datetime


class SpamFilter:
    """Token buckets keyed by source and involved object."""

    def __init__(
        self, *, burst: int = 25, refill_seconds: float = 300.0, max_entries: int = MAX_ENTRIES
    ) -> None:
        self.burst, self.refill_seconds = burst, refill_seconds
        self._buckets: _Lru[_Bucket] = _Lru(max_entries)

    def allow(self, event: Mapping[str, Any], now: datetime.datetime) -> bool:
        """Whether `event` may be written (taking a token if so)."""
        key = _source_object(event)
        bucket = self._buckets.get(key) or _Bucket(float(self.burst), now)
        elapsed = max((now - bucket.updated).total_seconds(), 0.0)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed / self.refill_seconds)
        bucket.updated = now
        self._buckets.touch(key, bucket)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True


@dataclass
class _Similar:
    messages: set[str] = field(default_factory=set)
    last: datetime.datetime | None = None


class EventAggregator:
    """Combines bursts of similar events (same source, object, type and reason; different messages)."""

    def __init__(
        self, *, max_events: int = 10, max_interval: float = 600.0, max_entries: int = MAX_ENTRIES
    ) -> None:
        self.max_events = max_events
        self.max_interval = datetime.timedelta(seconds=max_interval)
        self._similar: _Lru[_Similar] = _Lru(max_entries)

    @staticmethod
    def key(event: Mapping[str, Any]) -> tuple[str, ...]:
        return (*_source_object(event), str(event.get("type", "")), str(event.get("reason", "")))

    def aggregate(self, event: dict[str, Any], now: datetime.datetime) -> tuple[str, ...] | None:
        """Past the threshold, rewrite `event`'s message as the combined one and return the key the
        correlator should count it under (the same for every combined event of its kind); else None."""
        key = self.key(event)
        record = self._similar.get(key)
        if record is None or record.last is None or now - record.last > self.max_interval:
            record = _Similar()
        record.messages.add(str(event.get("message", "")))
        record.last = now
        self._similar.touch(key, record)
        if len(record.messages) < self.max_events:
            return None
        record.messages.pop()  # bounded: the set never grows past the threshold
        event["message"] = COMBINED_PREFIX + str(event.get("message", ""))
        return (*key, COMBINED_PREFIX)
