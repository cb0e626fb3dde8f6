"""When schedules fire: next and latest times, descriptors, day-of-month/day-of-week rules, zones and DST."""

from __future__ import annotations

import datetime

import pytest

from kubelite.api import cron
from kubelite.api.validation.cron import parse

UTC = datetime.UTC


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def nxt(spec: str, after: str, time_zone: str = "") -> str | None:
    found = cron.next_after(parse(spec), at(after), time_zone=time_zone)
    return None if found is None else found.isoformat()


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("* * * * *", "2024-01-01T00:00:00+00:00", "2024-01-01T00:01:00+00:00"),
        ("* * * * *", "2024-01-01T00:00:30+00:00", "2024-01-01T00:01:00+00:00"),
        ("*/15 * * * *", "2024-01-01T00:14:59+00:00", "2024-01-01T00:15:00+00:00"),
        ("0 * * * *", "2024-01-01T23:30:00+00:00", "2024-01-02T00:00:00+00:00"),
        ("@hourly", "2024-01-01T10:00:00+00:00", "2024-01-01T11:00:00+00:00"),
        ("@daily", "2024-02-28T12:00:00+00:00", "2024-02-29T00:00:00+00:00"),
        ("@midnight", "2024-02-29T00:00:00+00:00", "2024-03-01T00:00:00+00:00"),
        ("@weekly", "2024-01-01T00:00:00+00:00", "2024-01-07T00:00:00+00:00"),  # next Sunday
        ("@monthly", "2024-01-31T00:00:00+00:00", "2024-02-01T00:00:00+00:00"),
        ("@yearly", "2024-06-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"),
        ("@annually", "2024-06-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"),
        ("0 0 29 2 *", "2024-03-01T00:00:00+00:00", "2028-02-29T00:00:00+00:00"),
        ("30 8 * jan-mar mon-fri", "2024-03-29T09:00:00+00:00", "2025-01-01T08:30:00+00:00"),
        # Both day fields restricted: either matches (the 13th, or any Friday).
        ("0 0 13 * 5", "2024-09-01T00:00:00+00:00", "2024-09-06T00:00:00+00:00"),
        # One of them a star: both must match.
        ("0 0 13 * *", "2024-09-01T00:00:00+00:00", "2024-09-13T00:00:00+00:00"),
        ("0 0 31 2 *", "2024-01-01T00:00:00+00:00", None),
    ],
)
def test_next_after(spec: str, after: str, expected: str | None) -> None:
    assert nxt(spec, after) == expected


def test_every_adds_the_interval_in_whole_seconds() -> None:
    assert nxt("@every 90s", "2024-01-01T00:00:00.700+00:00") == "2024-01-01T00:01:30+00:00"


def test_time_zone_from_spec_or_prefix() -> None:
    # 09:00 in New York in winter is 14:00 UTC.
    assert nxt("0 9 * * *", "2024-01-10T00:00:00+00:00", "America/New_York") == "2024-01-10T14:00:00+00:00"
    assert nxt("CRON_TZ=Asia/Tokyo 0 9 * * *", "2024-01-10T00:00:00+00:00") == "2024-01-11T00:00:00+00:00"


def test_dst_spring_forward_skips_the_missing_hour() -> None:
    # Europe/Berlin jumps 02:00 -> 03:00 on 2024-03-31: 02:30 does not exist that day.
    assert nxt("30 2 * * *", "2024-03-30T12:00:00+00:00", "Europe/Berlin") == "2024-04-01T00:30:00+00:00"
    # Hourly keeps firing on the hours that exist, one UTC hour apart across the jump.
    assert nxt("0 * * * *", "2024-03-31T00:30:00+00:00", "Europe/Berlin") == "2024-03-31T01:00:00+00:00"


def test_dst_fall_back_runs_a_repeated_time_once() -> None:
    # Europe/Berlin repeats 02:00-03:00 on 2024-10-27: 02:30 CEST (00:30 UTC) fires, 02:30 CET does not.
    assert nxt("30 2 * * *", "2024-10-26T12:00:00+00:00", "Europe/Berlin") == "2024-10-27T00:30:00+00:00"
    assert nxt("30 2 * * *", "2024-10-27T00:30:00+00:00", "Europe/Berlin") == "2024-10-28T01:30:00+00:00"


def test_latest_at_or_before() -> None:
    schedule = parse("*/10 * * * *")
    since = at("2024-01-01T00:00:00+00:00")
    latest = cron.latest_at_or_before(schedule, at("2024-01-01T00:35:00+00:00"), since=since)
    assert latest == at("2024-01-01T00:30:00+00:00")
    assert cron.latest_at_or_before(schedule, at("2024-01-01T00:09:59+00:00"), since=since) is None
    # `since` itself is excluded: it is the firing already acted on.
    assert cron.latest_at_or_before(schedule, at("2024-01-01T00:00:00+00:00"), since=since) is None


def test_latest_in_a_zone_and_for_every() -> None:
    latest = cron.latest_at_or_before(
        parse("0 9 * * *"),
        at("2024-01-10T13:00:00+00:00"),
        since=at("2024-01-01T00:00:00+00:00"),
        time_zone="America/New_York",
    )
    assert latest == at("2024-01-09T14:00:00+00:00")
    every = cron.latest_at_or_before(
        parse("@every 1m"), at("2024-01-01T00:05:30+00:00"), since=at("2024-01-01T00:00:00+00:00")
    )
    assert every == at("2024-01-01T00:05:00+00:00")


def test_count_between_stops_at_the_limit() -> None:
    since, until = at("2024-01-01T00:00:00+00:00"), at("2024-01-01T03:00:00+00:00")
    assert cron.count_between(parse("*/30 * * * *"), since, until, limit=100) == 6
    assert cron.count_between(parse("* * * * *"), since, until, limit=101) == 101
