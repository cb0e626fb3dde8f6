"""Small helpers to default decoded JSON safely, with Go's two notions of "unset".

Defaulting runs on objects structural validation has already accepted, but it must never raise on a value
of the wrong type: such values are left for validation to report. Go defaults a plain field when it holds
its zero value ("" or 0) and a pointer field only when it is nil; `fill` and `fill_pointer` say which.
"""

from __future__ import annotations

from typing import Any, overload


@overload
def as_dict(value: Any) -> dict[str, Any] | None: ...
@overload
def as_dict(value: Any, default: dict[str, Any]) -> dict[str, Any]: ...
def as_dict(value: Any, default: dict[str, Any] | None = None) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else default


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_zero(value: Any, default: Any) -> bool:
    if value is None or value == "":
        return True
    numeric = isinstance(default, int) and not isinstance(default, bool)
    return numeric and isinstance(value, int) and not isinstance(value, bool) and value == 0


def fill(target: dict[str, Any] | None, **defaults: Any) -> None:
    """Set plain fields that are missing or hold their zero value ("" or 0)."""
    if target is None:
        return
    for name, value in defaults.items():
        if _is_zero(target.get(name), value):
            target[name] = value


def fill_pointer(target: dict[str, Any] | None, **defaults: Any) -> None:
    """Set pointer fields that are missing (or null)."""
    if target is None:
        return
    for name, value in defaults.items():
        if target.get(name) is None:
            target[name] = value


def ensure_dict(target: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The object at `name`, created empty when missing; None when something else is there."""
    if target is None:
        return None
    if target.get(name) is None:
        target[name] = {}
    return as_dict(target[name])


def zero_status(obj: dict[str, Any], **fields: Any) -> None:
    """The status as Go serializes a zero one: present, with its fields that have no omitempty."""
    status = ensure_dict(obj, "status")
    if status is not None:
        for name, value in fields.items():
            status.setdefault(name, value)
