"""Jobs and cronjobs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.apiserver.tables.printing import ago, cells, headers, meta

POD_TEMPLATE = {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}], "restartPolicy": "Never"}}


def _job(status: dict[str, Any] | None = None, *, deleting: bool = False, **spec: Any) -> dict[str, Any]:
    metadata = meta("pi", deletionTimestamp=ago(seconds=1)) if deleting else meta("pi")
    job: dict[str, Any] = {"metadata": metadata, "spec": {"template": POD_TEMPLATE, **spec}}
    if status is not None:
        job["status"] = status
    return job


def _conditions(*types: str, status: str = "True") -> dict[str, Any]:
    return {"conditions": [{"type": t, "status": status} for t in types]}


def test_job_headers() -> None:
    assert headers("batch", "jobs") == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert headers("batch", "jobs", wide=True)[5:] == ["CONTAINERS", "IMAGES", "SELECTOR"]


def test_completed_job() -> None:
    status = {
        "succeeded": 1,
        "startTime": ago(minutes=4),
        "completionTime": ago(minutes=3, seconds=25),
        **_conditions("SuccessCriteriaMet", "Complete"),
    }
    selector = {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}}
    assert cells("batch", "jobs", _job(status, completions=1, parallelism=1, selector=selector)) == [
        "pi",
        "Complete",
        "1/1",
        "35s",
        "5m",
        "pi",
        "perl:5.34",
        "batch.kubernetes.io/controller-uid=u1",
    ]


def test_running_job_counts_time_since_start() -> None:
    status = {"active": 2, "succeeded": 1, "startTime": ago(minutes=2, seconds=30)}
    assert cells("batch", "jobs", _job(status, completions=5, parallelism=2))[1:4] == [
        "Running",
        "1/5",
        "2m30s",
    ]


@pytest.mark.parametrize(
    ("spec", "completions"),
    [({}, "0/1"), ({"parallelism": 1}, "0/1"), ({"parallelism": 3}, "0/1 of 3"), ({"completions": 0}, "0/0")],
)
def test_completions_without_a_completion_count(spec: dict[str, Any], completions: str) -> None:
    assert cells("batch", "jobs", _job(**spec))[2] == completions


def test_job_without_status() -> None:
    assert cells("batch", "jobs", _job())[:5] == ["pi", "Running", "0/1", "", "5m"]
    assert cells("batch", "jobs", _job())[7] == "<none>"


@pytest.mark.parametrize(
    ("status", "deleting", "text"),
    [
        (_conditions("Failed"), False, "Failed"),
        (_conditions("Suspended"), False, "Suspended"),
        (_conditions("FailureTarget"), False, "FailureTarget"),
        (_conditions("Complete", status="False"), False, "Running"),
        ({}, True, "Terminating"),
        (_conditions("Suspended"), True, "Terminating"),
        # A finished job stays Complete / Failed while it is being deleted.
        (_conditions("Complete"), True, "Complete"),
        (_conditions("FailureTarget", "Failed"), True, "Failed"),
    ],
)
def test_job_status_precedence(status: dict[str, Any], deleting: bool, text: str) -> None:
    assert cells("batch", "jobs", _job(status, deleting=deleting))[1] == text


def _cron_job(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    job_template = {"spec": {"template": POD_TEMPLATE}}
    return {
        "metadata": meta("hello"),
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": job_template, **spec},
        "status": status or {},
    }


def test_cron_job() -> None:
    assert headers("batch", "cronjobs") == [
        "NAME",
        "SCHEDULE",
        "TIMEZONE",
        "SUSPEND",
        "ACTIVE",
        "LAST SCHEDULE",
        "AGE",
    ]
    status = {"active": [{"name": "hello-1"}, {"name": "hello-2"}], "lastScheduleTime": ago(minutes=3)}
    assert cells("batch", "cronjobs", _cron_job(status, suspend=False, timeZone="Etc/UTC")) == [
        "hello",
        "*/5 * * * *",
        "Etc/UTC",
        "False",
        2,
        "3m",
        "5m",
        "pi",
        "perl:5.34",
        "<none>",
    ]


def test_new_cron_job() -> None:
    assert cells("batch", "cronjobs", _cron_job(suspend=True))[2:6] == ["<none>", "True", 0, "<none>"]
    assert cells("batch", "cronjobs", _cron_job())[3] == "<unset>"
