"""PATCH: the four patch types, applied to the current object inside the compare-and-swap loop.

JSON patch (RFC 6902) comes from the `jsonpatch` package; merge, strategic merge and server-side apply come
from kubelite.api.patch. A patch that carries metadata.resourceVersion is a precondition, as upstream.
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from kubelite.api.patch import merge, strategic
from kubelite.api.patch.errors import PatchError
from kubelite.api.patch.meta import PatchSchema
from kubelite.api.schema import kind_schema
from kubelite.apiserver import bodies, errors, fieldmanagement
from kubelite.apiserver.fieldmanagement import FieldManager
from kubelite.apiserver.registry import Admit, Registry, WriteResult
from kubelite.apiserver.requestinfo import RequestInfo


def parse(content_type: str, raw: bytes) -> Any:
    if content_type not in bodies.PATCH_TYPES:
        raise errors.unsupported_media_type(content_type, bodies.PATCH_TYPES)
    document = bodies.decode(raw, content_type)
    if content_type == bodies.JSON_PATCH:
        if not isinstance(document, list):
            raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    elif not isinstance(document, dict):
        raise errors.bad_request(f"the patch must be a JSON object, not {type(document).__name__}")
    return document


def _json_patch(current: dict[str, Any], document: list[Any]) -> dict[str, Any]:
    try:
        patched = jsonpatch.JsonPatch(document).apply(current)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
        raise errors.ApiError(422, "Invalid", str(exc)) from exc
    return _as_object(patched)


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.ApiError(422, "Invalid", "the patched document is not an object")
    return value


def apply_patch(
    schema: PatchSchema | None, content_type: str, current: dict[str, Any], document: Any
) -> dict[str, Any]:
    """`document` (of `content_type`, not apply) applied to `current`; `schema` drives strategic merge."""
    try:
        if content_type == bodies.JSON_PATCH:
            return _json_patch(current, document)
        if content_type == bodies.MERGE_PATCH:
            return _as_object(merge.json_merge_patch(current, document))
        if content_type == bodies.STRATEGIC_PATCH:
            return strategic.strategic_merge_patch(current, document, schema)
    except PatchError as exc:
        raise fieldmanagement.from_patch_error(exc) from exc
    raise errors.unsupported_media_type(
        content_type, [bodies.JSON_PATCH, bodies.MERGE_PATCH, bodies.STRATEGIC_PATCH]
    )


async def patch(
    registry: Registry,
    info: RequestInfo,
    document: Any,
    *,
    content_type: str,
    fields: FieldManager,
    subresource: str,
    admit: Admit,
    dry_run: bool,
    field_validation: str,
) -> WriteResult:
    if content_type == bodies.APPLY_PATCH:
        return await _server_side_apply(
            registry,
            info,
            document,
            fields=fields,
            admit=admit,
            dry_run=dry_run,
            field_validation=field_validation,
        )

    res = registry.resource
    schema = kind_schema(res.group, res.version, res.kind)

    def transform(current: dict[str, Any]) -> dict[str, Any]:
        return apply_patch(schema, content_type, current, document)

    return await registry.update(
        info.namespace,
        info.name,
        transform,
        subresource=subresource,
        admit=admit,
        dry_run=dry_run,
        field_validation=field_validation,
        manage=fields.update,
    )


async def _server_side_apply(
    registry: Registry,
    info: RequestInfo,
    config: dict[str, Any],
    *,
    fields: FieldManager,
    admit: Admit,
    dry_run: bool,
    field_validation: str,
) -> WriteResult:
    """Merge the applied configuration into the live object, or create the object from it."""
    raw_meta = config.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    if meta.get("name") not in (None, info.name):
        raise errors.bad_request(
            f"the name of the object ({meta.get('name')}) does not match the name on the URL ({info.name})"
        )
    if registry.resource.namespaced and meta.get("namespace") not in (None, "", info.namespace):
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    try:
        return await registry.update(
            info.namespace,
            info.name,
            lambda current: fields.apply(current, config),
            subresource=fields.subresource,
            admit=admit,
            dry_run=dry_run,
            field_validation=field_validation,
        )
    except errors.ApiError as exc:
        if (
            exc.reason != "NotFound"
            or fields.subresource
            or exc.details.get("kind") != registry.resource.plural
        ):
            raise
    created = fields.apply(None, config)
    created_meta = created.setdefault("metadata", {})
    created_meta["name"] = info.name
    if registry.resource.namespaced:
        created_meta["namespace"] = info.namespace
    obj = await registry.create(created, admit=admit, dry_run=dry_run, field_validation=field_validation)
    return WriteResult(obj, created=True)
