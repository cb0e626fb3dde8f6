"""Warnings for the client, sent as `Warning: 299 - "text"` headers (kubectl prints them as `Warning: text`).

Code deep in a request (validation under fieldValidation=Warn) adds warnings without threading a parameter
through every layer: the middleware opens a per-request collection and writes the headers at the end.
"""

from __future__ import annotations

import contextvars

_current: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("api_warnings", default=None)


def begin() -> contextvars.Token[list[str] | None]:
    return _current.set([])


def end(token: contextvars.Token[list[str] | None]) -> list[str]:
    collected = _current.get() or []
    _current.reset(token)
    return collected


def add(text: str) -> None:
    collected = _current.get()
    if collected is not None and text not in collected:
        collected.append(text)


def header_value(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'
