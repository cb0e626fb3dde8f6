"""Table columns of events, core/v1 and events.k8s.io/v1 alike: LAST SEEN TYPE REASON OBJECT MESSAGE; wide
SUBOBJECT SOURCE FIRST SEEN COUNT NAME.

Upstream prints both groups from one internal type, so an events.k8s.io event is first read into the core
field names (regarding → involvedObject, note → message, deprecated* → the legacy timestamps and count).
Events written by the newer API carry eventTime and series instead of first/last timestamps and count.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import Column, Row, name_of, register
from kubelite.apiserver.tables.formats import since


def _source(event: dict[str, Any]) -> str:
    """`kubelet, node-1`: the reporting component, then the host when known."""
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


def _core_event_cells(event: dict[str, Any], now: datetime.datetime) -> Row:
    if event.get("firstTimestamp"):
        first_seen = since(event["firstTimestamp"], now)
    else:
        first_seen = since(event.get("eventTime"), now)
    last_seen = since(event["lastTimestamp"], now) if event.get("lastTimestamp") else first_seen
    count = int(event.get("count") or 0)
    series = event.get("series")
    if series:
        last_seen = since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events of the newer API carry no count
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last_seen,
        event.get("type", ""),
        event.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        _source(event),
        str(event.get("message", "")).strip(),
        first_seen,
        count,
        name_of(event),
    ]


def _as_core_event(event: dict[str, Any]) -> dict[str, Any]:
    """The fields of an events.k8s.io/v1 Event under their core/v1 names."""
    return {
        "metadata": event.get("metadata") or {},
        "involvedObject": event.get("regarding") or {},
        "message": event.get("note", ""),
        "source": event.get("deprecatedSource") or {},
        "firstTimestamp": event.get("deprecatedFirstTimestamp"),
        "lastTimestamp": event.get("deprecatedLastTimestamp"),
        "count": event.get("deprecatedCount"),
        "eventTime": event.get("eventTime"),
        "series": event.get("series"),
        "reportingComponent": event.get("reportingController", ""),
        "reportingInstance": event.get("reportingInstance", ""),
        "type": event.get("type", ""),
        "reason": event.get("reason", ""),
    }


def _events_k8s_io_cells(event: dict[str, Any], now: datetime.datetime) -> Row:
    return _core_event_cells(_as_core_event(event), now)


_COLUMNS = (
    Column(
        "Last Seen", description="The time at which the most recent occurrence of this event was recorded."
    ),
    Column("Type", description="Type of this event (Normal, Warning)."),
    Column(
        "Reason", description="A short, machine understandable string that gives the reason for the event."
    ),
    Column("Object", description="The object that this event is about."),
    Column("Subobject", priority=1, description="The part of the object the event is about (fieldPath)."),
    Column("Source", priority=1, description="The component reporting this event."),
    Column("Message", description="A human-readable description of the status of this operation."),
    Column("First Seen", priority=1, description="The time at which the event was first recorded."),
    Column("Count", priority=1, description="The number of times this event has occurred."),
    Column("Name", priority=1, format="name", description="Name must be unique within a namespace."),
)

register("", "events", _COLUMNS, _core_event_cells)
register("events.k8s.io", "events", _COLUMNS, _events_k8s_io_cells)
