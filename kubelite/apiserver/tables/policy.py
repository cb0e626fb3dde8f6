"""Table columns of poddisruptionbudgets: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE.

A bound the budget does not set prints as N/A; percentages print as written.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import AGE, NAME, Column, Row, age, name_of, register

_UNSET = "N/A"


def _bound(spec: dict[str, Any], field: str) -> str:
    value = spec.get(field)
    return _UNSET if value is None else str(value)


def _budget(pdb: dict[str, Any], now: datetime.datetime) -> Row:
    spec = pdb.get("spec") or {}
    allowed = int((pdb.get("status") or {}).get("disruptionsAllowed") or 0)
    return [
        name_of(pdb),
        _bound(spec, "minAvailable"),
        _bound(spec, "maxUnavailable"),
        allowed,
        age(pdb, now),
    ]


register(
    "policy",
    "poddisruptionbudgets",
    (
        NAME,
        Column("Min Available", description="The minimum number of pods that must be available."),
        Column("Max Unavailable", description="The maximum number of pods that may be unavailable."),
        Column(
            "Allowed Disruptions",
            type="integer",
            description="Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ),
    _budget,
)
