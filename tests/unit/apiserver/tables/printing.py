"""Helpers for the printer tests: a fixed clock, a row of cells and the header line kubectl would show."""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables import printer_for

NOW = datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.UTC)


def ago(**delta: float) -> str:
    """An RFC 3339 timestamp `delta` before NOW."""
    return (NOW - datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str = "x", **fields: Any) -> dict[str, Any]:
    """metadata created five minutes before NOW."""
    return {"name": name, "namespace": "default", "creationTimestamp": ago(minutes=5), **fields}


def cells(group: str, resource: str, obj: dict[str, Any]) -> list[Any]:
    return printer_for(group, resource).cells(obj, NOW)


def headers(group: str, resource: str, *, wide: bool = False) -> list[str]:
    """The column headers kubectl prints: upper-cased names, priority > 0 only with -o wide."""
    columns = printer_for(group, resource).columns
    return [c.name.upper() for c in columns if wide or c.priority == 0]
