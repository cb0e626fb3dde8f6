"""events.k8s.io/v1: Event, the structured successor of core/v1 Event (same objects, other field names)."""

from __future__ import annotations

from kubelite.api.schema.dsl import api_package, int32, micro_time, ref, string, time

events = api_package("events.k8s.io", "v1")

OBJECT_REFERENCE = "io.k8s.api.core.v1.ObjectReference"
EVENT_SOURCE = "io.k8s.api.core.v1.EventSource"

EventSeries = events.struct(
    "EventSeries",
    "A run of identical events, summarised instead of recorded one by one.",
    count=int32("Occurrences seen so far in the series.", required=True),
    lastObservedTime=micro_time("When the last occurrence was seen.", required=True),
)

Event = events.kind(
    "Event",
    "A report of something that happened in the cluster, about one object.",
    eventTime=micro_time("When the event first happened.", required=True),
    series=ref(EventSeries, "Set when the event recurs and is being summarised."),
    reportingController=string("Controller that emitted the event, such as kubernetes.io/kubelet."),
    reportingInstance=string("Instance of the controller that emitted the event, such as kubelet-node1."),
    action=string("What was done, or what failed, in machine-readable form."),
    reason=string("Why the action was taken, in machine-readable form."),
    regarding=ref(OBJECT_REFERENCE, "The object the event is about."),
    related=ref(OBJECT_REFERENCE, "A second object involved, if any."),
    note=string("Human-readable description of the event, at most 1 kB."),
    type=string("Normal or Warning."),
    deprecatedSource=ref(EVENT_SOURCE, "core/v1 Event's source, kept for compatibility."),
    deprecatedFirstTimestamp=time("core/v1 Event's firstTimestamp, kept for compatibility."),
    deprecatedLastTimestamp=time("core/v1 Event's lastTimestamp, kept for compatibility."),
    deprecatedCount=int32("core/v1 Event's count, kept for compatibility."),
)
EventList = events.list_of(Event)
