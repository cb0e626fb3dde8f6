"""meta.k8s.io/v1 Table output: the registry of per-kind columns and the generic NAME/AGE fallback.

kubectl asks for a Table when it prints (`kubectl get`); the server decides the columns. A kind registers its
columns and a row function once (`register`); kinds without one get NAME and AGE.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = list[Any]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0  # > 0: only with -o wide

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class Printer:
    columns: tuple[Column, ...]
    cells: Callable[[dict[str, Any], datetime.datetime], Row]


NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
AGE = Column(
    "Age",
    description="CreationTimestamp is a timestamp representing the server time when this object was created.",
)

_PRINTERS: dict[tuple[str, str], Printer] = {}


def register(
    group: str,
    resource: str,
    columns: tuple[Column, ...],
    cells: Callable[[dict[str, Any], datetime.datetime], Row],
) -> None:
    _PRINTERS[(group, resource)] = Printer(columns, cells)


def _generic_cells(obj: dict[str, Any], now: datetime.datetime) -> Row:
    return [name_of(obj), age(obj, now)]


GENERIC = Printer((NAME, AGE), _generic_cells)


def printer_for(group: str, resource: str) -> Printer:
    return _PRINTERS.get((group, resource), GENERIC)


def name_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def parse_time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def age(obj: dict[str, Any], now: datetime.datetime) -> str:
    created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    return human_duration(now - created) if created else "<unknown>"


def human_duration(delta: datetime.timedelta) -> str:
    """Durations the way kubectl prints ages: 45s, 2m30s, 15m, 5h10m, 3d4h, 2y100d."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    years = days // 365
    if days < 365 * 8:
        rest = days % 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


def _row_object(obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def table(
    printer: Printer, objects: list[dict[str, Any]], *, include: str, list_meta: dict[str, Any]
) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        embedded = _row_object(obj, include)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [c.to_dict() for c in printer.columns],
        "rows": rows,
    }
