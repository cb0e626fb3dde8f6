"""Controllers acting on time (schedules, deadlines, back-off) read it from a Clock, so tests can move it."""

from __future__ import annotations

import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime.datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)


def parse_time(text: str | None) -> datetime.datetime | None:
    """An API timestamp (RFC 3339, as metav1.Time writes it) as an aware datetime."""
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(when: datetime.datetime) -> str:
    """metav1.Time's wire form: whole seconds, UTC, "Z"."""
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
