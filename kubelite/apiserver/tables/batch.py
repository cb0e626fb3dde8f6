"""Table columns of jobs (NAME STATUS COMPLETIONS DURATION AGE) and cronjobs (NAME SCHEDULE TIMEZONE SUSPEND
ACTIVE LAST SCHEDULE AGE); wide output adds the pod template's containers, images and the selector.

A job's STATUS is read from its conditions in upstream's precedence: Complete, Failed, then Terminating once
deletion started, Suspended, FailureTarget, and otherwise Running.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import (
    AGE,
    NAME,
    Column,
    Row,
    age,
    human_duration,
    name_of,
    parse_time,
    register,
)
from kubelite.apiserver.tables.formats import (
    CONTAINERS,
    IMAGES,
    NONE,
    UNSET,
    container_cells,
    format_label_selector,
    since,
)


def _has_condition(status: dict[str, Any], kind: str) -> bool:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return bool(condition.get("status") == "True")
    return False


def _job_status(job: dict[str, Any]) -> str:
    status = job.get("status") or {}
    if _has_condition(status, "Complete"):
        return "Complete"
    if _has_condition(status, "Failed"):
        return "Failed"
    if (job.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    if _has_condition(status, "Suspended"):
        return "Suspended"
    if _has_condition(status, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _completions(spec: dict[str, Any], succeeded: int) -> str:
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = int(spec.get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _duration(status: dict[str, Any], now: datetime.datetime) -> str:
    started = parse_time(status.get("startTime"))
    if started is None:
        return ""
    finished = parse_time(status.get("completionTime")) or now
    return human_duration(finished - started)


def _job(job: dict[str, Any], now: datetime.datetime) -> Row:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    return [
        name_of(job),
        _job_status(job),
        _completions(spec, int(status.get("succeeded") or 0)),
        _duration(status, now),
        age(job, now),
        *container_cells((spec.get("template") or {}).get("spec")),
        format_label_selector(spec.get("selector")),
    ]


def _bool_text(value: Any) -> str:
    if value is None:
        return UNSET
    return "True" if value else "False"


def _cron_job(cron: dict[str, Any], now: datetime.datetime) -> Row:
    spec, status = cron.get("spec") or {}, cron.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    last = status.get("lastScheduleTime")
    return [
        name_of(cron),
        spec.get("schedule", ""),
        spec.get("timeZone") or NONE,
        _bool_text(spec.get("suspend")),
        len(status.get("active") or []),
        since(last, now) if last else NONE,
        age(cron, now),
        *container_cells((job_spec.get("template") or {}).get("spec")),
        format_label_selector(job_spec.get("selector")),
    ]


_SELECTOR = Column(
    "Selector", priority=1, description="A label query over pods that should match the pod count."
)

register(
    "batch",
    "jobs",
    (
        NAME,
        Column("Status", description="Status of the job."),
        Column("Completions", description="The number of pods which reached phase Succeeded."),
        Column("Duration", description="Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        _SELECTOR,
    ),
    _job,
)
register(
    "batch",
    "cronjobs",
    (
        NAME,
        Column("Schedule", description="The schedule in Cron format."),
        Column("Timezone", description="The time zone name for the given schedule."),
        Column("Suspend", type="boolean", description="Whether subsequent executions are suspended."),
        Column("Active", type="integer", description="Number of currently running jobs."),
        Column("Last Schedule", description="When the job was last successfully scheduled."),
        AGE,
        CONTAINERS,
        IMAGES,
        _SELECTOR,
    ),
    _cron_job,
)
