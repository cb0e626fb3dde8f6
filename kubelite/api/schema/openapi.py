"""OpenAPI documents generated from the schema definitions: v3 per group version, its index, and v2.

kubectl reads them for create/apply (is validation done server-side?), explain (descriptions) and
client-side apply (patch merge keys). Each document is built once per process and served as bytes; its
hash changes whenever its content does, because kubectl caches documents by URL.

    /openapi/v3              -> v3_index()
    /openapi/v3/api/v1?hash= -> v3_document("api/v1")
    /openapi/v2              -> v2_document()
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from kubelite.api import resources
from kubelite.api.schema.dsl import (
    Array,
    Free,
    MapOf,
    Node,
    Ref,
    Scalar,
    Struct,
    definition,
    definitions,
    kind_schema,
)
from kubelite.api.schema.openapi_paths import PathItem, render, resource_paths

V3_REF = "#/components/schemas/"
V2_REF = "#/definitions/"
_INFO = {"title": "Kubernetes", "version": "unversioned"}


@dataclass(frozen=True, slots=True)
class Document:
    body: bytes
    hash: str


def v3_index() -> Document:
    """The /openapi/v3 discovery document: one entry per group version, its URL carrying its hash."""
    return _v3()[0]


def v3_document(group_version_path: str) -> Document | None:
    """The document of one group version, by its path such as api/v1 or apis/apps/v1."""
    return _v3()[1].get(group_version_path)


@functools.cache
def v2_document() -> Document:
    paths: dict[str, Any] = {}
    for items in _path_items().values():
        paths.update({item.path: render(item, V2_REF, v3=False) for item in items})
    schemas = {name: schema_of(node, V2_REF, v3=False, definition_=True) for name, node in definitions()}
    return _document({"swagger": "2.0", "info": _INFO, "paths": paths, "definitions": schemas})


@functools.cache
def _v3() -> tuple[Document, dict[str, Document]]:
    documents: dict[str, Document] = {}
    for gv_path, items in _path_items().items():
        names = _closure(_operation_schemas(items))
        document = {
            "openapi": "3.0.0",
            "info": _INFO,
            "paths": {item.path: render(item, V3_REF, v3=True) for item in items},
            "components": {
                "schemas": {
                    name: schema_of(definition(name), V3_REF, v3=True, definition_=True) for name in names
                }
            },
        }
        documents[gv_path] = _document(document)
    index = {
        "paths": {
            gv_path: {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={doc.hash}"}
            for gv_path, doc in documents.items()
        }
    }
    return _document(index), documents


@functools.cache
def _path_items() -> dict[str, list[PathItem]]:
    """The paths of every served resource that has a schema, by group version path."""
    by_gv: dict[str, list[PathItem]] = {}
    for resource in resources.RESOURCES:
        if kind_schema(resource.group, resource.version, resource.kind) is not None:
            by_gv.setdefault(resource.group_version_path, []).extend(resource_paths(resource))
    return by_gv


def _document(content: dict[str, Any]) -> Document:
    body = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return Document(body, hashlib.sha512(body).hexdigest().upper())


def _operation_schemas(items: Iterable[PathItem]) -> Iterator[str]:
    for item in items:
        for op in item.operations:
            yield from (name for name in (op.body, op.response) if name)


def _closure(roots: Iterable[str]) -> list[str]:
    """The definitions `roots` need, transitively, in discovery order."""
    seen: dict[str, None] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen[name] = None
            pending.extend(_references(definition(name)))
    return sorted(seen)


def _references(node: Node) -> Iterator[str]:
    if isinstance(node, Ref):
        yield node.target
    elif isinstance(node, Array):
        yield from _references(node.items)
    elif isinstance(node, MapOf):
        yield from _references(node.values)
    elif isinstance(node, Struct):
        for field in node.fields.values():
            yield from _references(field)


def schema_of(node: Node, ref: str, *, v3: bool, definition_: bool = False) -> dict[str, Any]:
    """The OpenAPI schema of a node; `definition_` for a named definition (no allOf wrapping)."""
    schema: dict[str, Any] = {}
    if isinstance(node, Ref):
        target = {"$ref": ref + node.target}
        extensions = _extensions(node)
        if not node.description and not extensions:
            return target
        schema = {"allOf": [target]} if v3 else target
        schema.update(extensions)
    elif isinstance(node, Scalar):
        schema = _scalar(node, v3=v3)
    elif isinstance(node, Free):
        schema["type"] = "object"
        if not definition_:
            schema["x-kubernetes-preserve-unknown-fields"] = True
    elif isinstance(node, Array):
        schema = {"type": "array", "items": schema_of(node.items, ref, v3=v3), **_extensions(node)}
    elif isinstance(node, MapOf):
        schema = {
            "type": "object",
            "additionalProperties": schema_of(node.values, ref, v3=v3),
            **_extensions(node),
        }
    elif isinstance(node, Struct):
        schema = {
            "type": "object",
            "properties": {name: schema_of(field, ref, v3=v3) for name, field in node.fields.items()},
            **_extensions(node),
        }
        if node.required_fields:
            schema["required"] = node.required_fields
        if node.gvks:
            schema["x-kubernetes-group-version-kind"] = [
                {"group": g, "version": v, "kind": k} for g, v, k in node.gvks
            ]
    if node.description:
        schema["description"] = node.description
    return schema


def _scalar(node: Scalar, *, v3: bool) -> dict[str, Any]:
    # Quantity and IntOrString accept two JSON types: v3 says so with oneOf (kubectl explain then shows
    # <Quantity> and <IntOrString>), v2 calls them strings as upstream's v2 does.
    if node.format == "quantity":
        return {"oneOf": [{"type": "string"}, {"type": "number"}]} if v3 else {"type": "string"}
    if node.format == "int-or-string" and v3:
        return {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]}
    return {"type": node.type, "format": node.format} if node.format else {"type": node.type}


def _extensions(node: Node) -> dict[str, Any]:
    """The x-kubernetes-* extensions patching and apply need."""
    found: dict[str, Any] = {}
    if node.list_type:
        found["x-kubernetes-list-type"] = node.list_type
    if node.list_map_keys:
        found["x-kubernetes-list-map-keys"] = list(node.list_map_keys)
    if node.patch_merge_key:
        found["x-kubernetes-patch-merge-key"] = node.patch_merge_key
    if node.patch_strategy:
        found["x-kubernetes-patch-strategy"] = node.patch_strategy
    map_type = node.own_map_type if isinstance(node, Ref) else node.map_type
    if map_type:
        found["x-kubernetes-map-type"] = map_type
    return found
