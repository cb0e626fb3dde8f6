"""The CronJob controller's reconcile against an in-memory client and a fake clock."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.client.controller import RequeueAfter
from kubelite.controllers.cronjob import JOBS, SCHEDULED_TIMESTAMP, CronJobController, job_name
from tests.support.fakeclient import FakeClient, FakeRecorder, make_context
from tests.support.fakeclock import FakeClock

KEY = "default/tick"
START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def cronjob(**spec: Any) -> dict[str, Any]:
    base = {
        "schedule": "*/5 * * * *",
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
        "jobTemplate": {
            "metadata": {"labels": {"app": "tick"}},
            "spec": {
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}
            },
        },
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "tick",
            "namespace": "default",
            "uid": "cj-uid",
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        "spec": {**base, **spec},
    }


class Harness:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.fake = FakeClient()
        self.clock = FakeClock(START)
        self.events = FakeRecorder()
        ctx = make_context(self.fake)
        ctx.recorders["cronjob-controller"] = self.events  # type: ignore[assignment]
        self.ctl = CronJobController(ctx, clock=self.clock)
        self.fake.add(self.ctl.cronjobs.resource, spec)

    async def reconcile(self) -> float | None:
        self.fake.sync(self.ctl.cronjobs, self.ctl.jobs)
        try:
            await self.ctl.reconcile(KEY)
        except RequeueAfter as request:
            return request.delay
        finally:
            self.fake.sync(self.ctl.cronjobs, self.ctl.jobs)
        return None

    def at(self, minutes: float) -> None:
        self.clock.current = START + datetime.timedelta(minutes=minutes)

    def jobs(self) -> list[dict[str, Any]]:
        return self.fake.items(JOBS, "default")

    def job_names(self) -> list[str]:
        return [j["metadata"]["name"] for j in self.jobs()]

    def finish(self, name: str, kind: str, *, at: str = "2024-01-01T00:00:00Z") -> None:
        stored = self.fake.objects[("jobs", "default", name)]
        stored["status"] = {
            "startTime": at,
            "conditions": [{"type": kind, "status": "True", "lastTransitionTime": at}],
            **({"completionTime": at} if kind == "Complete" else {}),
        }
        self.fake.add(JOBS, stored)

    def status(self) -> dict[str, Any]:
        found = self.fake.stored(self.ctl.cronjobs.resource, "tick", "default")
        assert found is not None
        return dict(found.get("status") or {})


async def test_nothing_before_the_first_firing_then_a_job_named_for_the_minute() -> None:
    h = Harness(cronjob())
    h.at(3)
    delay = await h.reconcile()
    assert h.jobs() == [] and delay is not None and 119 < delay < 121
    h.at(5)
    delay = await h.reconcile()
    minutes = int(START.timestamp()) // 60 + 5
    [created] = h.jobs()
    assert (
        created["metadata"]["name"]
        == f"tick-{minutes}"
        == job_name("tick", START + datetime.timedelta(minutes=5))
    )
    assert created["metadata"]["annotations"][SCHEDULED_TIMESTAMP] == "2024-01-01T00:05:00Z"
    assert created["metadata"]["labels"] == {"app": "tick"}
    assert created["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert created["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    status = h.status()
    assert status["lastScheduleTime"] == "2024-01-01T00:05:00Z"
    assert [ref["name"] for ref in status["active"]] == [created["metadata"]["name"]]
    assert ("SuccessfulCreate", f"Created job tick-{minutes}", "Normal", "tick") in h.events.events
    assert delay is not None and 299 < delay < 301
    # Reconciling again in the same minute creates nothing more.
    await h.reconcile()
    assert len(h.jobs()) == 1


async def test_missed_firings_start_only_the_latest() -> None:
    h = Harness(cronjob())
    h.at(17)
    await h.reconcile()
    assert h.job_names() == [f"tick-{int(START.timestamp()) // 60 + 15}"]


async def test_starting_deadline_skips_a_too_late_start() -> None:
    h = Harness(cronjob(startingDeadlineSeconds=60))
    h.at(7)  # the 00:05 firing is 2 minutes old, beyond the 60 s deadline
    await h.reconcile()
    assert h.jobs() == []


async def test_too_many_missed_start_times_warns_and_still_starts() -> None:
    h = Harness(cronjob(schedule="* * * * *"))
    h.at(200)
    await h.reconcile()
    assert len(h.jobs()) == 1
    [warning] = [e for e in h.events.events if e[0] == "TooManyMissedTimes"]
    assert warning[1].startswith("too many missed start times: 101.") and warning[2] == "Warning"


async def test_forbid_skips_while_a_job_runs() -> None:
    h = Harness(cronjob(concurrencyPolicy="Forbid"))
    h.at(5)
    await h.reconcile()
    h.at(10)
    await h.reconcile()
    assert len(h.jobs()) == 1
    assert "JobAlreadyActive" in h.events.reasons()
    # Once the first finishes, the pending firing (still within reach) starts.
    h.finish(h.job_names()[0], "Complete", at="2024-01-01T00:11:00Z")
    h.at(11)
    await h.reconcile()
    assert len(h.jobs()) == 2
    assert "SawCompletedJob" in h.events.reasons()
    assert h.status()["lastSuccessfulTime"] == "2024-01-01T00:11:00Z"


async def test_replace_deletes_the_running_job() -> None:
    h = Harness(cronjob(concurrencyPolicy="Replace"))
    h.at(5)
    await h.reconcile()
    first = h.job_names()[0]
    h.at(10)
    await h.reconcile()
    assert first not in h.job_names() and len(h.jobs()) == 1
    assert ("SuccessfulDelete", f"Deleted job {first}", "Normal", "tick") in h.events.events
    [deletion] = h.fake.writes("delete", "jobs")
    assert deletion.body["propagation_policy"] == "Background"


async def test_allow_runs_jobs_side_by_side() -> None:
    h = Harness(cronjob())
    for minute in (5, 10, 15):
        h.at(minute)
        await h.reconcile()
    assert len(h.jobs()) == 3
    assert len(h.status()["active"]) == 3


@pytest.mark.parametrize(
    ("kind", "limit_field"),
    [("Complete", "successfulJobsHistoryLimit"), ("Failed", "failedJobsHistoryLimit")],
)
async def test_history_limits_delete_the_oldest_finished_jobs(kind: str, limit_field: str) -> None:
    h = Harness(cronjob(**{limit_field: 1}))
    for minute in (5, 10, 15):
        h.at(minute)
        await h.reconcile()
    for i, name in enumerate(h.job_names()):
        h.finish(name, kind, at=f"2024-01-01T00:{10 + i:02d}:00Z")
    newest = h.job_names()[-1]
    await h.reconcile()
    assert h.job_names() == [newest]
    assert h.events.reasons().count("SuccessfulDelete") == 2


async def test_suspended_cronjob_starts_nothing() -> None:
    h = Harness(cronjob(suspend=True))
    h.at(30)
    assert await h.reconcile() is None
    assert h.jobs() == []


async def test_time_zone_shifts_the_firing() -> None:
    h = Harness(cronjob(schedule="0 1 * * *", timeZone="Europe/Berlin"))
    h.at(60 * 24)  # 2024-01-02T00:00Z is 01:00 in Berlin
    await h.reconcile()
    [created] = h.jobs()
    assert created["metadata"]["annotations"][SCHEDULED_TIMESTAMP] == "2024-01-02T01:00:00+01:00"
