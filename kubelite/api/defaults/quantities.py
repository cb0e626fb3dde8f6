"""Quantities as the API server returns them: canonical strings, resource lists rounded up to milli-units.

Upstream decodes every quantity and re-encodes it canonically (`cpu: 0.5` comes back as "500m",
`memory: 1.5Gi` as "1536Mi", `1000` as "1k"), and SetDefaults_ResourceList rounds resource lists up to
milli precision. The schema says where quantities are, so one walk over the object finds them all; it skips
subtrees whose schema holds no quantity (most of an object: metadata, managedFields, most of a pod spec).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from kubelite.api.quantity import Quantity, canonical, parse
from kubelite.api.schema.dsl import Array, MapOf, Node, Scalar, Struct


def _is_quantity(node: Node) -> bool:
    resolved = node.resolved()
    return isinstance(resolved, Scalar) and resolved.format == "quantity"


# Whether a schema node has a quantity anywhere beneath it, per node; schemas are built once at import.
_HOLDS_QUANTITY: dict[Node, bool] = {}
_QUANTITY_FIELDS: dict[Struct, tuple[tuple[str, Node], ...]] = {}


def _holds_quantity(node: Node) -> bool:
    known = _HOLDS_QUANTITY.get(node)
    if known is None:
        known = _HOLDS_QUANTITY[node] = _reaches_quantity(node)
    return known


def _reaches_quantity(start: Node) -> bool:
    """A search of the schema graph from `start`, which may be recursive (JSONSchemaProps)."""
    seen: set[int] = set()
    pending = [start]
    while pending:
        node = pending.pop().resolved()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if _is_quantity(node):
            return True
        if isinstance(node, MapOf):
            pending.append(node.values)
        elif isinstance(node, Array):
            pending.append(node.items)
        elif isinstance(node, Struct):
            pending.extend(node.fields.values())
    return False


def _spelled(value: Any, *, milli: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    try:
        quantity = parse(value)
    except ValueError:
        return value  # malformed: structural validation reports it
    if milli:
        scaled = abs(quantity.value) * 1000
        rounded = Fraction(math.ceil(scaled), 1000)
        quantity = Quantity(rounded if quantity.value >= 0 else -rounded, quantity.notation)
    return canonical(quantity)


def canonicalize(value: Any, node: Node) -> Any:
    """`value` with every quantity the schema `node` describes spelled canonically (dicts change in place)."""
    if not _holds_quantity(node):
        return value
    resolved = node.resolved()
    if _is_quantity(resolved):
        return _spelled(value, milli=False)
    if isinstance(resolved, MapOf) and isinstance(value, dict):
        if _is_quantity(resolved.values):
            for key, item in value.items():
                value[key] = _spelled(item, milli=True)
        else:
            for key, item in value.items():
                value[key] = canonicalize(item, resolved.values)
    elif isinstance(resolved, Array) and isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = canonicalize(item, resolved.items)
    elif isinstance(resolved, Struct) and isinstance(value, dict):
        for name, field in _quantity_fields(resolved):
            item = value.get(name)
            if item is not None:
                value[name] = canonicalize(item, field)
    return value


def _quantity_fields(struct: Struct) -> tuple[tuple[str, Node], ...]:
    fields = _QUANTITY_FIELDS.get(struct)
    if fields is None:
        fields = _QUANTITY_FIELDS[struct] = tuple(
            (name, node) for name, node in struct.fields.items() if _holds_quantity(node)
        )
    return fields
