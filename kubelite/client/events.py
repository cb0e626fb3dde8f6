"""Recording core/v1 Events about objects, as `kubectl describe` and `kubectl get events` show them.

Recording never blocks or fails the caller: `record()` puts the event on a bounded queue (dropping, with a
log line, when the API server cannot keep up) and `run()` writes them. Before writing, client-go's event
correlator steps run in its order: the per-object spam filter may drop the event, the aggregator may turn it
into a "(combined from similar events)" one (kubelite.client.eventcache), and repeats of the same event (same
object, type, reason, message and source) are folded into the first one: its `count` goes up and its
`lastTimestamp` moves. Each step remembers a bounded number of recent keys (least recently seen forgotten
first), so memory stays bounded however many objects there are.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.eventcache import EventAggregator, SpamFilter
from kubelite.client.rest import JSON, RestClient

log = logging.getLogger(__name__)

EVENTS = paths.resource("", "v1", "events")
NORMAL, WARNING = "Normal", "Warning"
_MAX_NAME = 253


def timestamp(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def object_reference(obj: Mapping[str, Any]) -> JSON:
    """The involvedObject for an object: what `kubectl describe` matches events on."""
    meta = obj.get("metadata") or {}
    ref = {
        "kind": obj.get("kind", ""),
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    return {k: v for k, v in ref.items() if v}


@dataclass
class _Seen:
    name: str
    count: int
    first_timestamp: str


class EventCorrelator:
    """Decides whether each new event repeats one already written; remembers at most `max_entries`."""

    def __init__(self, *, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, ...], _Seen] = OrderedDict()

    @staticmethod
    def key(event: Mapping[str, Any]) -> tuple[str, ...]:
        ref, source = event.get("involvedObject") or {}, event.get("source") or {}
        return (
            source.get("component", ""),
            source.get("host", ""),
            *(str(ref.get(f, "")) for f in ("kind", "namespace", "name", "uid", "apiVersion", "fieldPath")),
            event.get("type", ""),
            event.get("reason", ""),
            event.get("message", ""),
        )

    def correlate(self, event: JSON, key: tuple[str, ...] | None = None) -> bool:
        """Fold `event` into the first of its repeats (those with the same `key`, by default `self.key`): on a
        repeat, set its name, count and firstTimestamp to the first one's (count + 1) and return True;
        otherwise remember it and return False."""
        key = key or self.key(event)
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = _Seen(event["metadata"]["name"], int(event["count"]), event["firstTimestamp"])
            if len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
            return False
        self._seen.move_to_end(key)
        seen.count += 1
        event["metadata"]["name"] = seen.name
        event["count"] = seen.count
        event["firstTimestamp"] = seen.first_timestamp
        return True

    def __len__(self) -> int:
        return len(self._seen)


class EventRecorder:
    """Writes Events from `component` (and `host`, for node components)."""

    def __init__(
        self,
        client: RestClient,
        *,
        component: str,
        host: str = "",
        max_pending: int = 1000,
        correlator: EventCorrelator | None = None,
        spam_filter: SpamFilter | None = None,
        aggregator: EventAggregator | None = None,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.correlator = correlator or EventCorrelator()
        self.spam_filter = spam_filter or SpamFilter()
        self.aggregator = aggregator or EventAggregator()
        self._clock = clock
        self._pending: asyncio.Queue[tuple[datetime.datetime, JSON]] = asyncio.Queue(max_pending)

    def record(self, obj: Mapping[str, Any], *, reason: str, message: str, event_type: str = NORMAL) -> None:
        """Queue an Event about `obj` (`event_type` Normal or Warning). Returns at once."""
        now = self._clock()
        event = self.build(obj, reason=reason, message=message, event_type=event_type, now=now)
        try:
            self._pending.put_nowait((now, event))
        except asyncio.QueueFull:
            log.warning("dropping event %s %s: too many pending events", reason, message)

    def build(
        self,
        obj: Mapping[str, Any],
        *,
        reason: str,
        message: str,
        event_type: str = NORMAL,
        now: datetime.datetime,
    ) -> JSON:
        ref = object_reference(obj)
        stamp = timestamp(now)
        suffix = f".{time.time_ns():x}"
        name = ref.get("name", "event")[: _MAX_NAME - len(suffix)] + suffix
        # Events about cluster-scoped objects (nodes, namespaces) live in "default", as upstream.
        namespace = ref.get("namespace") or "default"
        source = {"component": self.component, **({"host": self.host} if self.host else {})}
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }

    async def run(self) -> None:
        """Write queued events until cancelled."""
        while True:
            now, event = await self._pending.get()
            try:
                await self._write(event, now)
            except errors.ClientError as exc:
                log.warning("cannot record event %s on %s: %s", event["reason"], event["involvedObject"], exc)
            finally:
                self._pending.task_done()

    async def flush(self) -> None:
        """Wait until every event recorded so far was written (or failed)."""
        await self._pending.join()

    async def _write(self, event: JSON, now: datetime.datetime) -> None:
        if not self.spam_filter.allow(event, now):
            log.debug(
                "dropping event %s on %s: too many from one source", event["reason"], event["involvedObject"]
            )
            return
        namespace = event["metadata"]["namespace"]
        if self.correlator.correlate(event, self.aggregator.aggregate(event, now)):
            patch = {
                "count": event["count"],
                "lastTimestamp": event["lastTimestamp"],
                "message": event["message"],
            }
            try:
                await self.client.patch(EVENTS, event["metadata"]["name"], patch, namespace=namespace)
                return
            except errors.NotFound:
                pass  # expired or deleted meanwhile: write it again, count and all
        await self.client.create(EVENTS, event, namespace=namespace)
