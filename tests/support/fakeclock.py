"""A clock that only moves when a test moves it, for controllers that take a Clock."""

from __future__ import annotations

import datetime


class FakeClock:
    def __init__(self, start: datetime.datetime | None = None) -> None:
        self.current = start or datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)

    def now(self) -> datetime.datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += datetime.timedelta(seconds=seconds)
