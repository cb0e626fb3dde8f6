"""The CronJob controller: a Job for each time a CronJob's schedule fires, and a short history of them.

One reconcile per CronJob, level-triggered: it refreshes status.active from the Jobs the CronJob controls
(recording SawCompletedJob for those that finished), trims finished Jobs beyond the history limits, then looks
for the latest firing time since the last one it acted on (bounded by startingDeadlineSeconds) and, subject to
concurrencyPolicy, creates the Job `<cronjob>-<minutes since the epoch>`. The name makes creation idempotent:
a retry after a lost answer finds AlreadyExists. Time comes from an injectable clock; the next look is a
RequeueAfter at the next firing time.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from kubelite.api import cron
from kubelite.api.validation.cron import ScheduleError, parse
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller, PermanentError, RequeueAfter, owner_keys
from kubelite.client.events import WARNING
from kubelite.client.frozen import thaw
from kubelite.controllers import jobstatus
from kubelite.controllers.clock import Clock, SystemClock, format_time, parse_time
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.owned import controlled_by, index_by_owner
from kubelite.controllers.ownership import reference_to

CRONJOBS = paths.resource("batch", "v1", "cronjobs")
JOBS = paths.resource("batch", "v1", "jobs")
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
TOO_MANY_MISSED = 100
# Wake a little after the firing time, so the clock has surely reached it.
_REQUEUE_SLACK = 0.1


def job_name(cronjob_name: str, scheduled: datetime.datetime) -> str:
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"


def _reference(job: Snapshot) -> dict[str, Any]:
    meta = job["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "resourceVersion": meta.get("resourceVersion", ""),
    }


def _rfc3339(when: datetime.datetime, time_zone: str) -> str:
    """Go's RFC 3339 form of `when` on the zone's clock: "Z" for a zero offset."""
    text = when.astimezone(cron.zone(time_zone)).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _start_time(job: Snapshot) -> datetime.datetime:
    status, meta = job.get("status") or {}, job["metadata"]
    started = parse_time(status.get("startTime")) or parse_time(meta.get("creationTimestamp"))
    return started or datetime.datetime.min.replace(tzinfo=datetime.UTC)


class CronJobController:
    def __init__(self, ctx: ControllerContext, *, clock: Clock | None = None) -> None:
        self.client = ctx.client
        self.clock: Clock = clock or SystemClock()
        self.recorder = ctx.recorder("cronjob-controller")
        self.cronjobs = ctx.informers.informer(CRONJOBS)
        self.jobs = ctx.informers.informer(JOBS)
        index_by_owner(self.jobs.cache)
        self.controller = Controller("cronjob", self.reconcile, workers=2)
        self.controller.watch(self.cronjobs)
        self.controller.watch(self.jobs, keys=owner_keys("CronJob"))

    async def run(self) -> None:
        await self.controller.run()

    async def reconcile(self, key: str) -> None:
        cronjob = self.cronjobs.cache.get(key)
        if cronjob is None:
            return
        jobs = controlled_by(self.jobs.cache, cronjob)
        status = thaw(cronjob.get("status") or {})
        self._refresh_status(cronjob, status, jobs)
        if cronjob["metadata"].get("deletionTimestamp"):
            await self._write_status(cronjob, status)
            return
        await self._trim_history(cronjob, jobs)
        spec = cronjob["spec"]
        if spec.get("suspend"):
            await self._write_status(cronjob, status)
            return
        delay = await self._maybe_start(cronjob, spec, status, jobs)
        await self._write_status(cronjob, status)
        if delay is not None:
            raise RequeueAfter(delay)

    def _refresh_status(self, cronjob: Snapshot, status: dict[str, Any], jobs: list[Snapshot]) -> None:
        """status.active = the unfinished Jobs; lastSuccessfulTime = the latest completion."""
        was_active = {ref.get("uid") for ref in status.get("active") or ()}
        active = []
        for job in sorted(jobs, key=lambda j: str(j["metadata"]["name"])):
            finished = jobstatus.job_finished(job)
            if finished is None:
                if not job["metadata"].get("deletionTimestamp"):
                    active.append(_reference(job))
                continue
            if job["metadata"]["uid"] in was_active:
                message = f"Saw completed job: {job['metadata']['name']}, condition: {finished}"
                self.recorder.record(cronjob, reason="SawCompletedJob", message=message)
            finish = jobstatus.job_finish_time(job)
            last = parse_time(status.get("lastSuccessfulTime"))
            if finished == "Complete" and finish is not None and (last is None or finish > last):
                status["lastSuccessfulTime"] = format_time(finish)
        if active:
            status["active"] = active
        else:
            status.pop("active", None)

    async def _trim_history(self, cronjob: Snapshot, jobs: list[Snapshot]) -> None:
        spec = cronjob["spec"]
        limits = {
            "Complete": spec.get("successfulJobsHistoryLimit", 3),
            "Failed": spec.get("failedJobsHistoryLimit", 1),
        }
        for kind, limit in limits.items():
            if limit is None:
                continue
            finished = sorted((j for j in jobs if jobstatus.job_finished(j) == kind), key=_start_time)
            for job in finished[: max(len(finished) - limit, 0)]:
                await self._delete_job(cronjob, job)

    async def _delete_job(self, cronjob: Snapshot, job: Snapshot) -> None:
        name = str(job["metadata"]["name"])
        try:
            await self.client.delete(
                JOBS, name, namespace=cronjob["metadata"]["namespace"], propagation_policy="Background"
            )
        except errors.NotFound:
            return
        self.recorder.record(cronjob, reason="SuccessfulDelete", message=f"Deleted job {name}")

    async def _maybe_start(
        self, cronjob: Snapshot, spec: Mapping[str, Any], status: dict[str, Any], jobs: list[Snapshot]
    ) -> float | None:
        """Start the Job of the latest due firing, if policy allows; return seconds until the next firing."""
        time_zone = spec.get("timeZone") or ""
        try:
            schedule = parse(spec["schedule"])
            cron.zone(time_zone or schedule.time_zone)
        except (ScheduleError, LookupError, ValueError) as exc:
            self.recorder.record(cronjob, reason="UnparseableSchedule", message=str(exc), event_type=WARNING)
            raise PermanentError(f"schedule {spec.get('schedule')!r}: {exc}") from exc
        now = self.clock.now()
        meta = cronjob["metadata"]
        earliest = (
            parse_time(status.get("lastScheduleTime")) or parse_time(meta.get("creationTimestamp")) or now
        )
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - datetime.timedelta(seconds=deadline))
        following = cron.next_after(schedule, now, time_zone=time_zone)
        delay = None if following is None else (following - now).total_seconds() + _REQUEUE_SLACK
        scheduled = cron.latest_at_or_before(schedule, now, since=earliest, time_zone=time_zone)
        if scheduled is None:
            return delay
        missed = cron.count_between(schedule, earliest, now, limit=TOO_MANY_MISSED + 1, time_zone=time_zone)
        if missed > TOO_MANY_MISSED:
            message = (
                f"too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew"
            )
            self.recorder.record(cronjob, reason="TooManyMissedTimes", message=message, event_type=WARNING)
        name = job_name(str(meta["name"]), scheduled)
        if any(j["metadata"]["name"] == name for j in jobs):
            status["lastScheduleTime"] = format_time(scheduled)
            return delay
        active = [j for j in jobs if jobstatus.job_finished(j) is None]
        policy = spec.get("concurrencyPolicy") or "Allow"
        if active and policy == "Forbid":
            message = "Not starting job because prior execution is running and concurrency policy is Forbid"
            self.recorder.record(cronjob, reason="JobAlreadyActive", message=message)
            return delay
        if policy == "Replace":
            for job in active:
                await self._delete_job(cronjob, job)
            status.pop("active", None)
        created = await self._create_job(cronjob, name, scheduled, time_zone or schedule.time_zone)
        status.setdefault("active", []).append(_reference(created))
        status["lastScheduleTime"] = format_time(scheduled)
        return delay

    async def _create_job(
        self, cronjob: Snapshot, name: str, scheduled: datetime.datetime, time_zone: str
    ) -> Snapshot:
        template = thaw(cronjob["spec"]["jobTemplate"])
        meta = cronjob["metadata"]
        job_meta = thaw(template.get("metadata") or {})
        job_meta.update(
            name=name, namespace=meta["namespace"], ownerReferences=[reference_to(cronjob, CRONJOBS)]
        )
        job_meta.setdefault("annotations", {})[SCHEDULED_TIMESTAMP] = _rfc3339(scheduled, time_zone)
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": job_meta,
            "spec": template.get("spec") or {},
        }
        try:
            created: Snapshot = await self.client.create(JOBS, job, namespace=meta["namespace"])
        except errors.AlreadyExists:
            created = await self.client.get(JOBS, name, namespace=meta["namespace"])
            return created
        self.recorder.record(cronjob, reason="SuccessfulCreate", message=f"Created job {name}")
        return created

    async def _write_status(self, cronjob: Snapshot, status: dict[str, Any]) -> None:
        if status == (cronjob.get("status") or {}):
            return
        body = {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": thaw(cronjob["metadata"]),
            "spec": thaw(cronjob["spec"]),
            "status": status,
        }
        await self.client.update(CRONJOBS, body, subresource="status")


def new_controller(ctx: ControllerContext) -> CronJobController:
    return CronJobController(ctx)
