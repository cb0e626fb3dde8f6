"""JSON decoding that notices duplicate keys, for fieldValidation=Strict and Warn.

A decoded dict cannot tell that a key appeared twice, so duplicates must be caught while parsing. This is
slower than orjson; the API server uses it only when the request asks for strict or warned validation.
As upstream, the last of the duplicates wins.
"""

from __future__ import annotations

import json
from typing import Any

from kubelite.api.schema.causes import Cause, duplicate_field, join


def loads(raw: bytes | str) -> tuple[Any, list[Cause]]:
    """Decode `raw`; also return a DuplicateField cause per repeated key, with its field path.

    Raises ValueError (json.JSONDecodeError) for malformed JSON, as json.loads does.
    """
    # id(dict) -> (the dict, its repeated keys); the dict is kept so its id cannot be reused meanwhile.
    repeats: dict[int, tuple[dict[str, Any], list[str]]] = {}

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        repeated: list[str] = []
        for key, value in pairs:
            if key in obj and key not in repeated:
                repeated.append(key)
            obj[key] = value
        if repeated:
            repeats[id(obj)] = (obj, repeated)
        return obj

    value = json.loads(raw, object_pairs_hook=build)
    if not repeats:
        return value, []
    found: list[Cause] = []
    _collect(value, "", repeats, found)
    return value, found


def _collect(
    value: Any, path: str, repeats: dict[int, tuple[dict[str, Any], list[str]]], found: list[Cause]
) -> None:
    if isinstance(value, dict):
        entry = repeats.get(id(value))
        if entry is not None and entry[0] is value:
            found.extend(duplicate_field(join(path, key)) for key in entry[1])
        for key, item in value.items():
            _collect(item, join(path, key), repeats, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, f"{path}[{index}]", repeats, found)
