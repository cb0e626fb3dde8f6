"""Structural validation of decoded objects against the schemas, plus a hook for per-kind semantic checks.

Structure is what upstream's decoder enforces: every field known, every value of the declared JSON type
(integers that fit, RFC 3339 times, base64 bytes, well-formed quantities), required fields present. Rules on
values (DNS names, port ranges, immutable fields...) are semantic: register them per kind with
`semantic_validator`; they run only on structurally sound objects, so they may trust the types.

    causes = validate(obj, "apps", "v1", "Deployment")
    strict = [c for c in causes if c.strict]      # unknown/duplicate: depends on fieldValidation
    invalid = [c for c in causes if not c.strict]  # 422 Invalid
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from kubelite.api.schema import causes as c
from kubelite.api.schema.causes import Cause
from kubelite.api.schema.dsl import GVK, Array, MapOf, Node, Scalar, Struct, kind_schema

SemanticValidator = Callable[[dict[str, Any]], list[Cause]]

_SEMANTIC: dict[GVK, list[SemanticValidator]] = {}

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
# Upstream's grammar check for quantities, with its error message.
_QUANTITY_PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_QUANTITY = re.compile(_QUANTITY_PATTERN)


def semantic_validator(
    group: str, version: str, kind: str
) -> Callable[[SemanticValidator], SemanticValidator]:
    """Decorator registering a semantic check of a kind; it gets the whole object, returns causes."""

    def register(check: SemanticValidator) -> SemanticValidator:
        _SEMANTIC.setdefault((group, version, kind), []).append(check)
        return check

    return register


def validate(
    obj: Any,
    group: str,
    version: str,
    kind: str,
    *,
    check_required: bool = True,
    semantic: bool = True,
) -> list[Cause]:
    """Every problem of `obj` as an object of the given kind; empty when it is valid."""
    schema = kind_schema(group, version, kind)
    if schema is None:
        raise KeyError(f"no schema for kind {kind} in {group or 'core'}/{version}")
    found = validate_node(obj, schema, check_required=check_required)
    if semantic and isinstance(obj, dict) and all(cause.strict for cause in found):
        for check in _SEMANTIC.get((group, version, kind), ()):
            found.extend(check(obj))
    return _unique(found)


def validate_node(value: Any, node: Node, *, path: str = "", check_required: bool = True) -> list[Cause]:
    """Structural problems of `value` against one schema node; `path` prefixes the field paths."""
    found: list[Cause] = []
    _check(value, node, path, found, check_required)
    return found


def _check(value: Any, node: Node, path: str, found: list[Cause], check_required: bool) -> None:
    if value is None:  # null decodes to the zero value upstream: never a type error
        return
    node = node.resolved()
    if isinstance(node, Scalar):
        if node.type == "string" and not node.format and isinstance(value, str):
            return  # the common case, without a call
        cause = _check_scalar(value, node, path)
        if cause is not None:
            found.append(cause)
    elif isinstance(node, Struct):
        _check_struct(value, node, path, found, check_required)
    elif isinstance(node, Array):
        if not isinstance(value, list):
            found.append(c.type_invalid(path, "array", value))
            return
        for index, item in enumerate(value):
            _check(item, node.items, f"{path}[{index}]", found, check_required)
    elif isinstance(node, MapOf):
        if not isinstance(value, dict):
            found.append(c.type_invalid(path, "object", value))
            return
        for key, item in value.items():
            _check(item, node.values, f"{path}[{key}]", found, check_required)


def _check_struct(value: Any, node: Struct, path: str, found: list[Cause], check_required: bool) -> None:
    if not isinstance(value, dict):
        found.append(c.type_invalid(path, "object", value))
        return
    fields = node.fields
    prefix = f"{path}." if path else ""  # c.join, once per struct rather than once per field
    for name, item in value.items():
        field = fields.get(name)
        if field is None:
            found.append(c.unknown_field(prefix + name))
        elif item is not None:
            _check(item, field, prefix + name, found, check_required)
    if check_required:
        found.extend(c.required(prefix + name) for name in _required(node) if value.get(name) is None)


# Struct.required_fields per struct: schemas are built once at import, and this runs on every write.
_REQUIRED: dict[Struct, tuple[str, ...]] = {}


def _required(node: Struct) -> tuple[str, ...]:
    names = _REQUIRED.get(node)
    if names is None:
        names = _REQUIRED[node] = tuple(node.required_fields)
    return names


def _check_scalar(value: Any, node: Scalar, path: str) -> Cause | None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if node.format == "int-or-string":
        return None if is_int or isinstance(value, str) else c.type_invalid(path, "integer or string", value)
    if node.format == "quantity":
        return _check_quantity(value, path, is_number=is_int or isinstance(value, float))
    if node.type == "integer":
        if not is_int:
            return c.type_invalid(path, "integer", value)
        low, high = _INT_RANGES.get(node.format, _INT_RANGES["int64"])
        return (
            None if low <= value <= high else c.invalid(path, value, f"must fit in a {node.format} integer")
        )
    if node.type == "number":
        return None if is_int or isinstance(value, float) else c.type_invalid(path, "number", value)
    if node.type == "boolean":
        return None if isinstance(value, bool) else c.type_invalid(path, "boolean", value)
    if not isinstance(value, str):
        return c.type_invalid(path, "string", value)
    if node.format == "date-time" and not _DATE_TIME.match(value):
        return c.invalid(path, value, "must be an RFC 3339 date-time, such as 2006-01-02T15:04:05Z")
    if node.format == "byte":
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error:
            return c.invalid(path, value, "illegal base64 data")
    return None


def _check_quantity(value: Any, path: str, *, is_number: bool) -> Cause | None:
    if is_number:
        return None
    if not isinstance(value, str):
        return c.type_invalid(path, "string", value)
    if _QUANTITY.match(value):
        return None
    return c.invalid(path, value, f"quantities must match the regular expression '{_QUANTITY_PATTERN}'")


def _unique(found: list[Cause]) -> list[Cause]:
    """Drop repeats, e.g. a Required value reported both structurally and by a semantic check."""
    return list(dict.fromkeys(found))
