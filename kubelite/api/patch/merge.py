"""JSON merge patch (RFC 7386), the `application/merge-patch+json` PATCH body.

Objects merge recursively, `null` deletes a member, and anything else (lists included) replaces what
was there. kubectl sends these for `label`, `annotate` and `scale`.
"""

from __future__ import annotations

import copy
from typing import Any


def json_merge_patch(target: Any, patch: Any) -> Any:
    """The result of merging `patch` into `target`; neither input is modified or shared with the result."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    _merge_into(result, patch)
    return result


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                # A new object still goes through the merge so nulls inside it vanish, as the RFC says.
                current = target[key] = {}
            _merge_into(current, value)
        else:
            target[key] = copy.deepcopy(value)
