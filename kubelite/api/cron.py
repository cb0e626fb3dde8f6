"""When a parsed cron schedule fires: the next time after an instant, and the latest one at or before it.

Shared by the CronJob controller (and anything else that must agree with validation on what a schedule
means): schedules come from `kubelite.api.validation.cron.parse`. Times are computed on the wall clock of the
schedule's zone, then turned into absolute instants. Across daylight-saving changes a wall time the clock
skips (spring forward) never fires, and a wall time the clock passes twice (fall back) fires once, at its
first occurrence. Like robfig/cron, nothing further than five years away is looked for.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from collections.abc import Iterator

from kubelite.api.validation.cron import Schedule

_SEARCH_DAYS = 5 * 366
_UTC = datetime.UTC


def zone(name: str) -> datetime.tzinfo:
    """The zone a name means; "" and "UTC" are UTC."""
    return _UTC if name in ("", "UTC") else zoneinfo.ZoneInfo(name)


def _day_matches(schedule: Schedule, day: datetime.date) -> bool:
    dom = day.day in schedule.days_of_month
    dow = (day.weekday() + 1) % 7 in schedule.days_of_week  # cron counts Sunday as 0
    # Cron's rule: with either day field a star both must match, otherwise either one suffices.
    if schedule.day_of_month_star or schedule.day_of_week_star:
        return dom and dow
    return dom or dow


def _instant(day: datetime.date, hour: int, minute: int, tz: datetime.tzinfo) -> datetime.datetime | None:
    """The instant of a wall time in `tz`, or None when the clock skips it."""
    wall = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    instant = wall.astimezone(_UTC)
    back = instant.astimezone(tz)
    if (back.hour, back.minute, back.date()) != (hour, minute, day):
        return None
    return instant


def _fires(
    schedule: Schedule, start: datetime.date, tz: datetime.tzinfo, step: int
) -> Iterator[datetime.datetime]:
    """Every firing instant on the days from `start` onwards (step 1) or backwards (step -1)."""
    hours = sorted(schedule.hours, reverse=step < 0)
    minutes = sorted(schedule.minutes, reverse=step < 0)
    for offset in range(_SEARCH_DAYS):
        day = start + datetime.timedelta(days=offset * step)
        if day.month not in schedule.months or not _day_matches(schedule, day):
            continue
        for hour in hours:
            for minute in minutes:
                instant = _instant(day, hour, minute, tz)
                if instant is not None:
                    yield instant


def _zone_of(schedule: Schedule, time_zone: str) -> datetime.tzinfo:
    # spec.timeZone wins over a TZ= prefix (validation refuses having both).
    return zone(time_zone or schedule.time_zone)


def next_after(
    schedule: Schedule, after: datetime.datetime, *, time_zone: str = ""
) -> datetime.datetime | None:
    """The first firing strictly after `after` (aware), in UTC; None if none within five years."""
    after = after.astimezone(_UTC)
    if schedule.every_seconds:
        whole = math.floor(after.timestamp()) + max(1, round(schedule.every_seconds))
        return datetime.datetime.fromtimestamp(whole, _UTC)
    tz = _zone_of(schedule, time_zone)
    # A day before the local date too: the first occurrence of an ambiguous time may precede `after`'s date.
    start = after.astimezone(tz).date() - datetime.timedelta(days=1)
    return next((t for t in _fires(schedule, start, tz, 1) if t > after), None)


def latest_at_or_before(
    schedule: Schedule, at: datetime.datetime, *, since: datetime.datetime, time_zone: str = ""
) -> datetime.datetime | None:
    """The last firing in (since, at], in UTC; None if there is none."""
    at, since = at.astimezone(_UTC), since.astimezone(_UTC)
    if schedule.every_seconds:
        interval = max(1, round(schedule.every_seconds))
        first = math.floor(since.timestamp()) + interval
        if first > at.timestamp():
            return None
        latest = first + (math.floor(at.timestamp()) - first) // interval * interval
        return datetime.datetime.fromtimestamp(latest, _UTC)
    tz = _zone_of(schedule, time_zone)
    start = at.astimezone(tz).date() + datetime.timedelta(days=1)
    for instant in _fires(schedule, start, tz, -1):
        if instant <= since:
            return None
        if instant <= at:
            return instant
    return None


def count_between(
    schedule: Schedule, since: datetime.datetime, until: datetime.datetime, *, limit: int, time_zone: str = ""
) -> int:
    """How many firings fall in (since, until], counting no further than `limit`."""
    count, cursor = 0, since
    while count < limit:
        following = next_after(schedule, cursor, time_zone=time_zone)
        if following is None or following > until:
            break
        count, cursor = count + 1, following
    return count
