"""Job and CronJob validation, and the cron schedule parser."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api import defaults
from kubelite.api.validation import cron

from .builders import UID, job, problems, stored, template


def _generated(obj: dict[str, Any]) -> dict[str, Any]:
    obj = stored(obj)
    defaults.generate_job_selector(obj)
    return obj


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("a job", job(), []),
    (
        "pods must not restart Always (the default)",
        job(template=template()),
        [("spec.template.spec.restartPolicy", 'Required value: valid values: "OnFailure", "Never"')],
    ),
    (
        "restart policy values",
        job(template=template(restartPolicy="Sometimes")),
        [
            (
                "spec.template.spec.restartPolicy",
                'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
            ),
            (
                "spec.template.spec.restartPolicy",
                'Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
            ),
        ],
    ),
    (
        "completions",
        job(completions=-1),
        [("spec.completions", "Invalid value: -1: must be greater than or equal to 0")],
    ),
    (
        "parallelism",
        job(parallelism=-2),
        [("spec.parallelism", "Invalid value: -2: must be greater than or equal to 0")],
    ),
    (
        "indexed jobs count their completions",
        job(completionMode="Indexed", parallelism=3),
        [("spec.completions", "Required value: when completion mode is Indexed")],
    ),
    ("a manual selector", job(manualSelector=True, selector={"matchLabels": {"app": "web"}}), []),
    (
        "a manual selector must match",
        job(manualSelector=True, selector={"matchLabels": {"app": "api"}}),
        [
            (
                "spec.template.metadata.labels",
                'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
            )
        ],
    ),
    (
        "a generated selector keeps user labels that disagree",
        job(template=template(labels={"job-name": "other"}, restartPolicy="Never")),
        [
            (
                "spec.template.metadata.labels[job-name]",
                f'Invalid value: map[string]string{{"batch.kubernetes.io/controller-uid":"{UID}", '
                f'"batch.kubernetes.io/job-name":"pi", "controller-uid":"{UID}", "job-name":"other"}}: must '
                "be 'pi'",
            )
        ],
    ),
]


@pytest.mark.parametrize(("case", "obj", "expected"), CASES, ids=[case[0] for case in CASES])
def test_job_rules(case: str, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(obj) == expected


def test_job_selector_and_template_are_immutable() -> None:
    old = _generated(job())
    new = copy.deepcopy(old)
    new["spec"]["parallelism"] = 3
    new["spec"]["activeDeadlineSeconds"] = 600
    assert problems(new, old) == []
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5"
    found = problems(new, old)
    assert [field for field, _ in found] == ["spec.template"]
    assert found[0][1].endswith(": field is immutable")
    moved = copy.deepcopy(old)
    moved["spec"]["completions"] = 4
    assert problems(moved, old) == [("spec.completions", "Invalid value: 4: field is immutable")]


def test_a_suspended_job_that_never_ran_may_be_steered() -> None:
    old = _generated(job(suspend=True))
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    assert problems(new, old) == []
    started = copy.deepcopy(old)
    started["status"] = {"startTime": "2025-01-01T00:00:00Z"}
    assert [field for field, _ in problems(new, started)] == ["spec.template"]


def cron_job(**spec: Any) -> dict[str, Any]:
    job_template = {"spec": {"template": template(restartPolicy="OnFailure")}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": job_template, **spec},
    }


CRON_CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("a cron job", cron_job(), []),
    ("descriptors", cron_job(schedule="@hourly"), []),
    ("time zone", cron_job(timeZone="Europe/Paris"), []),
    ("schedule required", cron_job(schedule=""), [("spec.schedule", "Required value")]),
    (
        "field count",
        cron_job(schedule="every minute"),
        [
            (
                "spec.schedule",
                'Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]',
            )
        ],
    ),
    (
        "field range",
        cron_job(schedule="0 24 * * *"),
        [("spec.schedule", 'Invalid value: "0 24 * * *": end of range (24) above maximum (23): 24')],
    ),
    (
        "field syntax",
        cron_job(schedule="x * * * *"),
        [
            (
                "spec.schedule",
                'Invalid value: "x * * * *": failed to parse int from x: strconv.Atoi: parsing "x": invalid '
                "syntax",
            )
        ],
    ),
    (
        "unknown descriptor",
        cron_job(schedule="@often"),
        [("spec.schedule", 'Invalid value: "@often": unrecognized descriptor: @often')],
    ),
    (
        "unknown time zone",
        cron_job(timeZone="Mars/Olympus"),
        [("spec.timeZone", 'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus')],
    ),
    (
        "both time zones",
        cron_job(schedule="TZ=UTC 0 * * * *", timeZone="UTC"),
        [
            (
                "spec.schedule",
                'Invalid value: "TZ=UTC 0 * * * *": cannot use both timeZone field and TZ or CRON_TZ in '
                "schedule",
            )
        ],
    ),
    (
        "concurrency policy",
        cron_job(concurrencyPolicy="Sometimes"),
        [
            (
                "spec.concurrencyPolicy",
                'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
            )
        ],
    ),
    (
        "job template restart policy",
        cron_job(jobTemplate={"spec": {"template": template()}}),
        [
            (
                "spec.jobTemplate.spec.template.spec.restartPolicy",
                'Required value: valid values: "OnFailure", "Never"',
            )
        ],
    ),
    (
        "names leave room for the job suffix",
        {**cron_job(), "metadata": {"name": "n" * 53, "namespace": "default"}},
        [("metadata.name", f'Invalid value: "{"n" * 53}": must be no more than 52 characters')],
    ),
]


@pytest.mark.parametrize(("case", "obj", "expected"), CRON_CASES, ids=[case[0] for case in CRON_CASES])
def test_cron_job_rules(case: str, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(obj) == expected


def test_schedules_parse_into_the_times_they_allow() -> None:
    schedule = cron.parse("*/15 9-17 * jan,JUL mon-fri")
    assert schedule.minutes == {0, 15, 30, 45}
    assert schedule.hours == set(range(9, 18))
    assert schedule.months == {1, 7}
    assert schedule.days_of_week == {1, 2, 3, 4, 5}
    assert schedule.day_of_month_star and not schedule.day_of_week_star
    assert cron.parse("@daily").hours == {0}
    assert cron.parse("@every 1h30m").every_seconds == 5400
    assert cron.parse("CRON_TZ=Asia/Tokyo 0 0 * * *").time_zone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("", "empty spec string"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("@every soon", 'failed to parse duration @every soon: time: invalid duration "soon"'),
        ("TZ=Nowhere/City * * * * *", "provided bad location Nowhere/City: unknown time zone Nowhere/City"),
    ],
)
def test_schedule_errors_are_worded_like_robfig_cron(schedule: str, message: str) -> None:
    with pytest.raises(cron.ScheduleError) as error:
        cron.parse(schedule)
    assert str(error.value) == message
