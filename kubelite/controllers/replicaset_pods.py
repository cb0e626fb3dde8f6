"""How the replica controllers judge pods: active, ready, available, and which to delete first.

The deletion order is upstream's ActivePods order (most expendable first): unscheduled before scheduled,
Pending before Unknown before Running, not ready before ready, lower pod-deletion-cost first, ready for less
time before ready for longer, more container restarts before fewer, newer before older.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from kubelite.controllers.clock import parse_time

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}
_NEVER = datetime.datetime.min.replace(tzinfo=datetime.UTC)

Pod = Mapping[str, Any]


def is_active(pod: Pod) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not (pod.get("metadata") or {}).get("deletionTimestamp")


def ready_condition(pod: Pod) -> Mapping[str, Any] | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition  # type: ignore[no-any-return]
    return None


def is_ready(pod: Pod) -> bool:
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def ready_since(pod: Pod) -> datetime.datetime | None:
    condition = ready_condition(pod)
    if condition is None or condition.get("status") != "True":
        return None
    return parse_time(condition.get("lastTransitionTime"))


def is_available(pod: Pod, min_ready_seconds: int, now: datetime.datetime) -> bool:
    """Ready for at least `min_ready_seconds` (immediately when that is 0)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + datetime.timedelta(seconds=min_ready_seconds) < now


def count_ready(pods: list[Pod], min_ready_seconds: int, now: datetime.datetime) -> tuple[int, int]:
    """(ready, available) among `pods` in one pass: a controller's status counts thousands of pods on
    every change of any of them."""
    ready = available = 0
    wait = datetime.timedelta(seconds=min_ready_seconds)
    for pod in pods:
        condition = ready_condition(pod)
        if condition is None or condition.get("status") != "True":
            continue
        ready += 1
        if min_ready_seconds <= 0:
            available += 1
            continue
        since = parse_time(condition.get("lastTransitionTime"))
        if since is not None and since + wait < now:
            available += 1
    return ready, available


def restarts(pod: Pod) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return sum(int(c.get("restartCount") or 0) for c in statuses)


def _deletion_cost(pod: Pod) -> int:
    try:
        return int(((pod.get("metadata") or {}).get("annotations") or {}).get(DELETION_COST, 0))
    except ValueError:
        return 0


def _deletion_rank(pod: Pod) -> tuple[Any, ...]:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    ready = is_ready(pod)
    # Later ready time and later creation sort first, so they enter negated via timestamps' ordinals.
    since = ready_since(pod) or _NEVER
    created = parse_time(meta.get("creationTimestamp")) or _NEVER
    return (
        bool(spec.get("nodeName")),
        _PHASE_RANK.get(status.get("phase", ""), 0),
        ready,
        _deletion_cost(pod),
        -since.timestamp() if ready else 0.0,
        -restarts(pod),
        -created.timestamp(),
    )


def deletion_order(pods: list[Pod]) -> list[Pod]:
    """The pods, most expendable first."""
    return sorted(pods, key=_deletion_rank)
