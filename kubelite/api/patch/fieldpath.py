"""Field paths and field sets: what a manager owns, and managedFields' `fieldsV1` encoding of it.

A path is a tuple of elements, one per step into the object: `f:<name>` a field, `k:{"name":"nginx"}` the
element of a map-list with those key values, `v:"a"` the element of a set-list with that value, `i:3` a
list index. A field set is a frozenset of such paths. In fieldsV1 the set is a tree of JSON objects keyed
by the elements; `{}` marks a member with nothing under it and `".": {}` a member that also has children
(a list item whose own fields are listed too). Paths print as upstream prints them in conflicts:
`.spec.template.spec.containers[name="nginx"].image`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any, Final, NamedTuple, cast

import orjson

from kubelite.api.patch.errors import go_quote, go_repr


class PathElement(NamedTuple):
    kind: str  # "f" field, "k" map-list key, "v" set-list value, "i" index
    text: str  # what follows "<kind>:" in fieldsV1

    def encoded(self) -> str:
        return f"{self.kind}:{self.text}"


Path = tuple[PathElement, ...]
FieldSet = frozenset[Path]
EMPTY: FieldSet = frozenset()


def field(name: str) -> PathElement:
    return PathElement("f", name)


def key(values: dict[str, Any]) -> PathElement:
    return PathElement("k", _canonical_json(values))


def value(item: Any) -> PathElement:
    return PathElement("v", _canonical_json(item))


_FLAT: Final = frozenset({str, int, bool, type(None)})


def _canonical_json(item: Any) -> str:
    """Compact JSON with sorted keys and integral numbers as integers, so equal values encode equally."""
    if type(item) in _FLAT or (type(item) is dict and all(type(v) in _FLAT for v in item.values())):
        # Map-list keys (a name, a port and protocol) and set-list values: orjson spells these exactly as
        # json.dumps below does, several times faster; floats (spelled differently) and what orjson refuses
        # take the long way.
        try:
            return orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:
            pass
    return json.dumps(_normalized(item), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _normalized(item: Any) -> Any:
    if isinstance(item, float) and item.is_integer():
        return int(item)
    if isinstance(item, dict):
        return {k: _normalized(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_normalized(v) for v in item]
    return item


def path_string(path: Path) -> str:
    return "".join(_element_string(element) for element in path)


def _element_string(element: PathElement) -> str:
    if element.kind == "f":
        return "." + element.text
    if element.kind == "k":
        values = json.loads(element.text)
        return "[" + ",".join(f"{name}={_value_string(v)}" for name, v in values.items()) + "]"
    if element.kind == "v":
        return f"[={_value_string(json.loads(element.text))}]"
    return f"[{element.text}]"


def _value_string(item: Any) -> str:
    """structured-merge-diff's value.ToString: strings quoted, containers flattened."""
    if item is None:
        return "null"
    if isinstance(item, str):
        return go_quote(item)
    if isinstance(item, list):
        return "[" + ",".join(_value_string(v) for v in item) + "]"
    if isinstance(item, dict):
        return "".join(f"{k}={_value_string(v)}" for k, v in item.items())
    return go_repr(item)


@functools.lru_cache(maxsize=4096)  # every write sorts the same few hundred elements again
def element_order(element: PathElement) -> tuple[Any, ...]:
    """Upstream's element order: fields, then keys, then values, then indices, each by content."""
    if element.kind == "f":
        return 0, element.text
    if element.kind == "k":
        return 1, tuple((name, _value_order(v)) for name, v in json.loads(element.text).items())
    if element.kind == "v":
        return 2, _value_order(json.loads(element.text))
    return 3, int(element.text)


def _value_order(item: Any) -> tuple[Any, ...]:
    if isinstance(item, bool):
        return 2, item
    if isinstance(item, int | float):
        return 0, float(item)
    if isinstance(item, str):
        return 1, item
    if isinstance(item, list):
        return 3, tuple(_value_order(v) for v in item)
    if isinstance(item, dict):
        return 4, tuple(sorted((k, _value_order(v)) for k, v in item.items()))
    return (5,)


def sorted_paths(fields: Iterable[Path]) -> list[Path]:
    """Paths in upstream's iteration order: at each level the members first, then the subtrees."""
    return sorted(
        fields,
        key=lambda path: tuple(
            (0 if depth == len(path) - 1 else 1, element_order(element)) for depth, element in enumerate(path)
        ),
    )


def proper_prefixes(fields: Iterable[Path]) -> frozenset[Path]:
    return frozenset(path[:depth] for path in fields for depth in range(1, len(path)))


def excluding(fields: FieldSet, ignored: FieldSet) -> FieldSet:
    """`fields` without any path at or under one of `ignored`."""
    if not ignored:
        return fields
    depths = {len(stop) for stop in ignored}
    return frozenset(path for path in fields if not any(path[:depth] in ignored for depth in depths))


class _Node:
    __slots__ = ("children", "member")

    def __init__(self) -> None:
        self.children: dict[PathElement, _Node] = {}
        self.member = False


def to_fields_v1(fields: Iterable[Path]) -> dict[str, Any]:
    if isinstance(fields, frozenset):
        # Most writes re-encode sets they did not change, and pods of one template have equal sets: the
        # encoding is cached, handed out as a fresh tree each time.
        try:
            return cast(dict[str, Any], orjson.loads(_encoded(fields)))
        except orjson.JSONEncodeError:  # a lone surrogate in a key: not cacheable as UTF-8
            pass
    return _tree(fields)


@functools.lru_cache(maxsize=2048)  # ~1 KiB each
def _encoded(fields: FieldSet) -> bytes:
    return orjson.dumps(_tree(fields))


def _tree(fields: Iterable[Path]) -> dict[str, Any]:
    root = _Node()
    for path in fields:
        node = root
        for element in path:
            node = node.children.setdefault(element, _Node())
        node.member = True
    return _emit(root, include_self=False)


def _emit(node: _Node, *, include_self: bool) -> dict[str, Any]:
    children = node.children
    if not children:
        return {}
    out: dict[str, Any] = {".": {}} if include_self else {}
    for element in sorted(children, key=element_order) if len(children) > 1 else children:
        child = children[element]
        out[element.encoded()] = _emit(child, include_self=child.member)
    return out


def from_fields_v1(tree: Any) -> FieldSet:
    """Decodes a fieldsV1 object; raises ValueError when it is not one."""
    try:
        text = orjson.dumps(tree)
    except orjson.JSONEncodeError:
        return _decode(tree)
    return _decoded(text)  # cached by content: entries a write leaves alone come back unchanged


@functools.lru_cache(maxsize=2048)
def _decoded(text: bytes) -> FieldSet:
    return _decode(orjson.loads(text))


def _decode(tree: Any) -> FieldSet:
    found: set[Path] = set()
    _collect(tree, (), found)
    return frozenset(found)


def _collect(tree: Any, prefix: Path, found: set[Path]) -> None:
    if not isinstance(tree, dict):
        raise ValueError(f"fieldsV1 must be nested objects, got {tree!r}")
    for encoded, subtree in tree.items():
        if encoded == ".":
            if prefix:
                found.add(prefix)
            continue
        path = (*prefix, _parse_element(encoded))
        if subtree == {}:
            found.add(path)
        else:
            _collect(subtree, path, found)


@functools.lru_cache(maxsize=8192)  # the same few hundred element spellings recur in every entry
def _parse_element(encoded: str) -> PathElement:
    kind, colon, text = encoded.partition(":")
    if not colon:
        raise ValueError(f"missing colon: {encoded}")
    if kind == "f":
        return field(text)
    if kind == "i":
        return PathElement("i", str(int(text)))
    if kind in ("k", "v"):
        decoded = json.loads(text)
        if kind == "k" and not isinstance(decoded, dict):
            raise ValueError(f"key element must be an object: {encoded}")
        return PathElement(kind, _canonical_json(decoded))
    raise ValueError(f"unknown path element: {encoded}")
