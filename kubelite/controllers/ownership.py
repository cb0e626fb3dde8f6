"""Adopting and releasing objects by their controller ownerReference, guarded against concurrent change.

Both are JSON patches that first test the object's uid (a recreated object of the same name is never
touched) and its current ownerReferences (a concurrent adoption by someone else wins), as upstream's
ControllerRefManager guarantees with its uid precondition.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kubelite.api.resources import Resource
from kubelite.client import errors
from kubelite.client.frozen import thaw
from kubelite.client.rest import JSON, PatchType, RestClient

log = logging.getLogger(__name__)


def controller_ref(meta: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for ref in meta.get("ownerReferences") or ():
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def reference_to(owner: Mapping[str, Any], res: Resource) -> JSON:
    """A controller ownerReference to `owner` (which blocks its foreground deletion, as upstream's do)."""
    meta = owner["metadata"]
    return {
        "apiVersion": res.api_version,
        "kind": res.kind,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _finalizer_operations(meta: Mapping[str, Any], finalizer: str, present: bool) -> list[JSON]:
    """JSON patch operations that make `finalizer` present (or absent), tested against the current list."""
    current = list(meta.get("finalizers") or ())
    if (finalizer in current) == present:
        return []
    operations: list[JSON] = (
        [{"op": "test", "path": "/metadata/finalizers", "value": current}] if current else []
    )
    if present:
        return [*operations, {"op": "add", "path": "/metadata/finalizers", "value": [*current, finalizer]}]
    return [*operations, {"op": "remove", "path": f"/metadata/finalizers/{current.index(finalizer)}"}]


async def _patch_refs(
    client: RestClient,
    res: Resource,
    obj: Mapping[str, Any],
    refs: list[JSON],
    extra: list[JSON] | None = None,
) -> JSON | None:
    meta = obj["metadata"]
    current = thaw(meta.get("ownerReferences") or [])
    operations: list[JSON] = [{"op": "test", "path": "/metadata/uid", "value": meta["uid"]}]
    if current:
        operations.append({"op": "test", "path": "/metadata/ownerReferences", "value": current})
    if refs:
        operations.append({"op": "add", "path": "/metadata/ownerReferences", "value": refs})
    else:
        operations.append({"op": "remove", "path": "/metadata/ownerReferences"})
    operations += extra or []
    try:
        return await client.patch(
            res, meta["name"], operations, namespace=meta.get("namespace"), patch_type=PatchType.JSON
        )
    except (errors.NotFound, errors.Invalid, errors.Conflict, errors.BadRequest) as exc:
        # It changed or vanished meanwhile; the next pass sees the new state.
        log.info("ownerReferences of %s %s unchanged: %s", res.kind, meta["name"], exc)
        return None


async def adopt(
    client: RestClient,
    res: Resource,
    obj: Mapping[str, Any],
    owner: Mapping[str, Any],
    owner_res: Resource,
    *,
    finalizer: str | None = None,
) -> JSON | None:
    """Make `owner` the controller of `obj` (adding the owner's `finalizer`, if any, in the same write);
    returns the patched object, or None if `obj` changed."""
    refs = thaw((obj["metadata"].get("ownerReferences")) or [])
    ops = _finalizer_operations(obj["metadata"], finalizer, True) if finalizer else None
    return await _patch_refs(client, res, obj, [*refs, reference_to(owner, owner_res)], ops)


async def release(
    client: RestClient, res: Resource, obj: Mapping[str, Any], owner_uid: str, *, finalizer: str | None = None
) -> None:
    """Drop `owner_uid`'s ownerReference (and the owner's `finalizer`, if any) from `obj`: it no longer
    matches the owner's selector."""
    refs = thaw((obj["metadata"].get("ownerReferences")) or [])
    ops = _finalizer_operations(obj["metadata"], finalizer, False) if finalizer else None
    await _patch_refs(client, res, obj, [ref for ref in refs if ref.get("uid") != owner_uid], ops)
