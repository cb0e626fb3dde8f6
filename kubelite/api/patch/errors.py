"""Errors of the patch algorithms, each carrying the HTTP status the API server answers with.

Messages follow upstream's wording (apimachinery's mergepatch errors, the field manager's conflict text)
because kubectl prints them verbatim. Upstream renders values inside messages with Go's `%v`;
`go_repr` reproduces that rendering (`map[name:nginx]`) so the texts read the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class PatchError(Exception):
    """A patch that cannot be applied: 400 for a malformed patch document, 422 for unusable content."""

    def __init__(self, message: str, *, code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def bad_request(message: str) -> PatchError:
    return PatchError(message, code=400)


@dataclass(frozen=True)
class Conflict:
    """One field another manager owns: `manager` as upstream prints it, `path` like `.spec.replicas`."""

    manager: str
    path: str


class ApplyConflictError(PatchError):
    """Server-side apply would change fields other managers own (HTTP 409, reason Conflict)."""

    def __init__(self, conflicts: Iterable[Conflict]) -> None:
        self.conflicts = list(conflicts)
        super().__init__(_conflict_message(self.conflicts), code=409)

    @property
    def causes(self) -> list[dict[str, str]]:
        """The Status details.causes upstream sends, one per conflicting field."""
        return [
            {"reason": "FieldManagerConflict", "message": f"conflict with {c.manager}", "field": c.path}
            for c in self.conflicts
        ]


def _conflict_message(conflicts: list[Conflict]) -> str:
    if len(conflicts) == 1:
        only = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {only.manager}: {only.path}"
    by_manager: dict[str, list[str]] = {}
    for conflict in conflicts:
        by_manager.setdefault(conflict.manager, []).append(conflict.path)
    lines: list[str] = []
    for manager in sorted(by_manager):
        lines.append(f"conflicts with {manager}:")
        lines.extend(f"- {path}" for path in by_manager[manager])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def go_repr(value: Any) -> str:
    """`value` as Go's fmt `%v` prints a decoded JSON value (maps with sorted keys, nil as <nil>)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{go_repr(value[key])}" for key in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_repr(item) for item in value) + "]"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def go_quote(text: str) -> str:
    """Go's `%q` for the printable strings that occur in field paths and manager names."""
    return json.dumps(text, ensure_ascii=False)


def _go_type_name(value: Any) -> str:
    """The Go type a decoded JSON value has, as upstream's "expected a X, but received a Y" names it."""
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "<nil>"


def bad_arg_type(expected: str, actual: Any) -> PatchError:
    return PatchError(f"expected a {expected}, but received a {_go_type_name(actual)}")
