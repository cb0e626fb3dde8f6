"""CronJob schedules: the five-field cron syntax and the @descriptors, with robfig/cron's error messages.

Upstream parses schedules with robfig/cron v3's standard parser and reports its error text verbatim
(`expected exactly 5 fields, found 1: [nonsense]`), so this parser accepts what it accepts (names of
months and weekdays, `*`, `?`, ranges, steps, lists, an optional TZ= or CRON_TZ= prefix, @hourly...) and
words its refusals the same way. `parse` returns the sets of allowed values, for the CronJob controller.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

_MONTHS = {
    name: i for i, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)
}
_WEEKDAYS = {name: i for i, name in enumerate("sun mon tue wed thu fri sat".split())}
# (low, high, names) of minute, hour, day of month, month, day of week.
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _WEEKDAYS),
)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_ZONE_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


class ScheduleError(ValueError):
    """The schedule does not parse; the message is robfig/cron's."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """What a schedule allows: either the five value sets, or a fixed interval (@every)."""

    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days_of_month: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    days_of_week: frozenset[int] = frozenset()
    # Cron's rule: when both day fields are restricted, a day matching either one runs.
    day_of_month_star: bool = False
    day_of_week_star: bool = False
    every_seconds: float = 0.0
    time_zone: str = ""


def _go_fields(fields: list[str]) -> str:
    return "[" + " ".join(fields) + "]"


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ScheduleError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    value = int(text)
    if value < 0:
        raise ScheduleError(f"negative number ({value}) not allowed: {text}")
    return value


def _range(expression: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """One comma-separated piece: the values it allows and whether it was a bare star."""
    range_and_step = expression.split("/")
    low_and_high = range_and_step[0].split("-")
    star = low_and_high[0] in ("*", "?")
    if star:
        start, end = low, high
    else:
        start = _number(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _number(low_and_high[1], names)
        else:
            raise ScheduleError(f"too many hyphens: {expression}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _number(range_and_step[1], {})
        if len(low_and_high) == 1:
            end = high  # "N/step" means "N-max/step"
        star = star and step <= 1
    else:
        raise ScheduleError(f"too many slashes: {expression}")
    if start < low:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({low}): {expression}")
    if end > high:
        raise ScheduleError(f"end of range ({end}) above maximum ({high}): {expression}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expression}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expression}")
    return set(range(start, end + 1, step)), star


def _field(text: str, low: int, high: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expression in (piece for piece in text.split(",") if piece):
        allowed, is_star = _range(expression, low, high, names)
        values |= allowed
        star = star or is_star
    return frozenset(values), star


def _duration_seconds(text: str) -> float:
    """Go's time.ParseDuration, for @every."""
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    if not body:
        raise ScheduleError(f'time: invalid duration "{text}"')
    total = 0.0
    position = 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        number, unit = (match.group(1), match.group(2)) if match else ("", "")
        if not match or number in ("", "."):
            raise ScheduleError(f'time: invalid duration "{text}"')
        if not unit:
            raise ScheduleError(f'time: missing unit in duration "{text}"')
        if unit not in _DURATION_UNITS:
            raise ScheduleError(f'time: unknown unit "{unit}" in duration "{text}"')
        total += float(number) * _DURATION_UNITS[unit]
        position = match.end()
    return -total if text.startswith("-") else total


def parse(spec: str) -> Schedule:
    """robfig/cron's ParseStandard; ScheduleError carries its message."""
    if not spec:
        raise ScheduleError("empty spec string")
    zone = ""
    if spec.startswith(("TZ=", "CRON_TZ=")):
        head, _, spec = spec.partition(" ")
        zone = head.partition("=")[2]
        problem = time_zone_problem(zone)
        if problem:
            raise ScheduleError(f"provided bad location {zone}: {problem}")
        spec = spec.strip()
    if spec.startswith("@"):
        if spec.startswith("@every "):
            try:
                seconds = _duration_seconds(spec.removeprefix("@every "))
            except ScheduleError as error:
                raise ScheduleError(f"failed to parse duration {spec}: {error}") from error
            return Schedule(every_seconds=max(seconds, 1.0), time_zone=zone)
        if spec not in _DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {_go_fields(fields)}")
    parsed = [
        _field(text, low, high, names) for text, (low, high, names) in zip(fields, _FIELDS, strict=True)
    ]
    return Schedule(
        minutes=parsed[0][0],
        hours=parsed[1][0],
        days_of_month=parsed[2][0],
        months=parsed[3][0],
        days_of_week=parsed[4][0],
        day_of_month_star=parsed[2][1],
        day_of_week_star=parsed[4][1],
        time_zone=zone,
    )


def time_zone_problem(name: str) -> str:
    """Go's time.LoadLocation error for an IANA zone name, or "" when the zone exists."""
    if name in ("", "UTC"):
        return ""
    if any(
        part in (".", "..") or part.startswith("-") or not _ZONE_PART.match(part) for part in name.split("/")
    ):
        return f"unknown time zone {name}"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name}"
    return ""
