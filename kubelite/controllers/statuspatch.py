"""Writing a controller's status as a JSON merge patch of what changed, instead of a PUT of the whole object.

A PUT carries the cached resourceVersion and fails with Conflict whenever anything else wrote the object
since the cache saw it (often the controller's own previous write, not yet watched back). Status is
recomputed from scratch on every pass, so writing just the changed fields unconditionally is safe: a stale
pass is followed by a fresh one, which writes the newer truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api.resources import Resource
from kubelite.client.rest import JSON, RestClient


def merge_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> JSON:
    """Top-level fields of `new` that differ from `old`, and null for those `new` dropped."""
    diff: JSON = {k: None for k in old if k not in new}
    diff.update({k: v for k, v in new.items() if old.get(k) != v})
    return diff


async def write_status(
    client: RestClient, res: Resource, obj: Mapping[str, Any], status: Mapping[str, Any]
) -> JSON:
    """Patch obj's status to `status` through the status subresource; returns the updated object."""
    meta = obj["metadata"]
    patch = {"status": merge_diff(obj.get("status") or {}, status)}
    return await client.patch(res, meta["name"], patch, namespace=meta.get("namespace"), subresource="status")
