"""Status conditions of workload objects (Jobs above all): read them, set them as upstream does."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from kubelite.controllers.clock import format_time, parse_time


def find(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == kind:
            return condition  # type: ignore[no-any-return]
    return None


def is_true(status: Mapping[str, Any], kind: str) -> bool:
    condition = find(status, kind)
    return condition is not None and condition.get("status") == "True"


def set_condition(
    status: dict[str, Any], kind: str, value: str, *, reason: str, message: str, now: datetime.datetime
) -> bool:
    """Set one condition in a mutable status; the transition time moves only when the status flips.
    Returns whether anything changed."""
    conditions: list[dict[str, Any]] = status.setdefault("conditions", [])
    stamp = format_time(now)
    for condition in conditions:
        if condition.get("type") != kind:
            continue
        if (condition.get("status"), condition.get("reason"), condition.get("message")) == (
            value,
            reason,
            message,
        ):
            return False
        if condition.get("status") != value:
            condition["lastTransitionTime"] = stamp
        condition.update(status=value, reason=reason, message=message, lastProbeTime=stamp)
        return True
    conditions.append(
        {
            "type": kind,
            "status": value,
            "reason": reason,
            "message": message,
            "lastProbeTime": stamp,
            "lastTransitionTime": stamp,
        }
    )
    return True


def job_finished(job: Mapping[str, Any]) -> str | None:
    """The type of the condition (Complete or Failed) that says a Job finished, or None."""
    status = job.get("status") or {}
    for kind in ("Complete", "Failed"):
        if is_true(status, kind):
            return kind
    return None


def job_finish_time(job: Mapping[str, Any]) -> datetime.datetime | None:
    """When a finished Job finished: its completionTime, or when its Complete/Failed condition turned true."""
    status = job.get("status") or {}
    kind = job_finished(job)
    if kind is None:
        return None
    condition = find(status, kind) or {}
    return parse_time(status.get("completionTime")) or parse_time(condition.get("lastTransitionTime"))
