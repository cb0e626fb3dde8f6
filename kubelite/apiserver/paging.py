"""Opaque `continue` tokens for chunked lists.

A token carries the revision the first page read (so every page is read at that same revision: the pages
form one consistent snapshot) and the last key returned, relative to the list's prefix (so a token minted for
one collection cannot walk another one's keys).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson

_TOKEN_VERSION = "meta.k8s.io/v1"


class InvalidToken(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ContinueToken:
    revision: int
    start_after: str  # the last key returned, relative to the list prefix


def encode(token: ContinueToken) -> str:
    raw = orjson.dumps({"v": _TOKEN_VERSION, "rv": token.revision, "start": token.start_after})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str) -> ContinueToken:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidToken(f"continue key is not valid: {exc}") from exc
    if not isinstance(data, dict) or data.get("v") != _TOKEN_VERSION:
        raise InvalidToken(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        )
    revision, start = data.get("rv"), data.get("start")
    if not isinstance(revision, int) or revision <= 0:
        raise InvalidToken(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        )
    if not isinstance(start, str) or not start or start.startswith("/") or ".." in start.split("/"):
        raise InvalidToken("continue key is not valid: encoded start key is invalid")
    return ContinueToken(revision, start)
