"""Server-side apply's structural operations on one object, driven by the schema's list and map types.

Four walks over a JSON object, as structured-merge-diff performs them on typed values:
`field_set` (the fields a configuration sets), `compare` (what changed between two versions), `merge`
(an applied configuration over the live object) and `remove` (drop owned fields and list items).

Lists are "map" lists identified by their x-kubernetes-list-map-keys (containers by name, ports by
containerPort+protocol), "set" lists of primitives identified by value, or atomic (the default: replaced
and owned as a whole); a list with patch strategy "merge" and no list type counts as a map-list keyed by
its patch merge key, as upstream's schema conversion does. Maps are granular unless
x-kubernetes-map-type is atomic. Values the schema does not know are treated as upstream treats
untyped data: maps granular, lists atomic.
"""

from __future__ import annotations

import functools
from typing import Any, Final, NamedTuple

import orjson

from kubelite.api.patch import fieldpath
from kubelite.api.patch.errors import PatchError, go_quote
from kubelite.api.patch.fieldpath import FieldSet, Path, PathElement
from kubelite.api.patch.meta import PatchSchema
from kubelite.api.patch.values import json_copy, json_equal


class _Missing:
    """An absent value, distinct from JSON null."""


_MISSING: Final = _Missing()


class Comparison(NamedTuple):
    added: FieldSet
    modified: FieldSet
    removed: FieldSet

    def changed(self) -> FieldSet:
        return self.added | self.modified

    def excluding(self, ignored: FieldSet) -> Comparison:
        return Comparison(*(fieldpath.excluding(fields, ignored) for fields in self))


# Schemas are immutable and few; resolving a field through Refs on every step of every walk is not free.
@functools.lru_cache(maxsize=1024)
def _atomic_map(schema: PatchSchema | None) -> bool:
    return schema is not None and schema.map_type == "atomic"


@functools.lru_cache(maxsize=1024)
def _list_kind(schema: PatchSchema | None) -> tuple[str, tuple[str, ...]]:
    """("map", keys), ("set", ()) or ("atomic", ()) for a list field."""
    if schema is None:
        return "atomic", ()
    if schema.list_type == "map":
        return ("map", schema.list_map_keys) if schema.list_map_keys else ("set", ())
    if schema.list_type in ("set", "atomic"):
        return schema.list_type, ()
    if not schema.list_type and "merge" in schema.patch_strategy.split(","):
        merge_key = schema.patch_merge_key
        return ("map", (merge_key,)) if merge_key else ("set", ())
    return "atomic", ()


@functools.lru_cache(maxsize=8192)  # bounded: free-form maps (labels) bring arbitrary names
def _child(schema: PatchSchema | None, name: str) -> PatchSchema | None:
    return schema.field(name) if schema is not None else None


def _is_free_form_map(schema: PatchSchema | None) -> bool:
    """A map with arbitrary keys (labels), as opposed to a struct: it has a schema for any key at all."""
    return _child(schema, "\x00no such field") is not None


def _is_struct_field(schema: PatchSchema | None, name: str) -> bool:
    return not _is_free_form_map(schema) and _child(schema, name) is not None


def _items(schema: PatchSchema | None) -> PatchSchema | None:
    return schema.items if schema is not None else None


def _item_element(item: Any, schema: PatchSchema | None, path: Path, index: int) -> PathElement:
    """The path element naming `item` in the granular list at `path`."""
    kind, keys = _list_kind(schema)

    def where() -> str:  # only for errors: spelling the path is most of this function's cost otherwise
        return f"{fieldpath.path_string(path)}: element {index}: "

    if kind == "set":
        if isinstance(item, dict | list):
            shape = "map" if isinstance(item, dict) else "list"
            raise PatchError(where() + f"associative list without keys has an element that's a {shape} type")
        return fieldpath.value(item)
    if item is None:
        raise PatchError(where() + "associative list with keys may not have a null element")
    if not isinstance(item, dict):
        raise PatchError(where() + "associative list with keys may not have non-map elements")
    values = {}
    for name in keys:
        if name in item:
            values[name] = item[name]
        else:
            # Upstream fills a missing key from the key field's schema default (ports' protocol: TCP).
            default = getattr(_child(_items(schema), name), "default", None)
            if default is not None:
                values[name] = default
    if not values:
        quoted = "[" + " ".join(go_quote(name) for name in keys) + "]"
        raise PatchError(
            f"{where()}associative list with keys has an element that omits all key fields "
            f"{quoted} (and doesn't have default values for any key fields)"
        )
    return fieldpath.key(values)


def field_set(obj: Any, schema: PatchSchema | None) -> FieldSet:
    """Every field `obj` sets: leaves, atomic values, list items and empty maps."""
    found: set[Path] = set()
    _collect(obj, schema, (), found)
    return frozenset(found)


def _collect(value: Any, schema: PatchSchema | None, path: Path, found: set[Path]) -> None:
    if isinstance(value, dict):
        if _atomic_map(schema):
            found.add(path)
            return
        for name, child in value.items():
            child_schema, child_path = _child(schema, name), (*path, fieldpath.field(name))
            _collect(child, child_schema, child_path, found)
            if child is None or child == {} or not _is_struct_field(schema, name):
                found.add(child_path)
    elif isinstance(value, list):
        if _list_kind(schema)[0] == "atomic":
            found.add(path)
            return
        for index, item in enumerate(value):
            item_path = (*path, _item_element(item, schema, path, index))
            _collect(item, _items(schema), item_path, found)
            found.add(item_path)
    elif path:
        found.add(path)


def with_named_fields(fields: FieldSet, schema: PatchSchema | None) -> FieldSet:
    """`fields` plus every prefix ending in a struct field, so that removing them removes whole fields."""
    named = set(fields)
    for path in fields:
        node = schema
        for depth, element in enumerate(path[:-1]):
            if element.kind == "f":
                if _is_struct_field(node, element.text):
                    named.add(path[: depth + 1])
                node = _child(node, element.text)
            else:
                node = _items(node)
    return frozenset(named)


def _is_leaf(old: Any, new: Any, schema: PatchSchema | None) -> bool:
    """Whether the walks stop here: scalars, mixed types, atomic or empty maps and lists."""
    if old is _MISSING:
        if new is _MISSING:
            return True
        old = new
    elif new is _MISSING:
        new = old
    if isinstance(old, dict) and isinstance(new, dict):
        return not (old or new) or _atomic_map(schema)
    if isinstance(old, list) and isinstance(new, list):
        return not (old or new) or _list_kind(schema)[0] == "atomic"
    return True


def compare(old: Any, new: Any, schema: PatchSchema | None) -> Comparison:
    """The fields added, modified and removed going from `old` to `new`."""
    added: set[Path] = set()
    modified: set[Path] = set()
    removed: set[Path] = set()

    def walk_added(right: Any, schema: PatchSchema | None, path: Path) -> None:
        """walk(_MISSING, right, ...) without the comparisons: all of a create is new."""
        if _is_leaf(_MISSING, right, schema):
            added.add(path)
            return
        if isinstance(right, dict):
            for name, child in right.items():
                walk_added(child, _child(schema, name), (*path, fieldpath.field(name)))
        else:
            for element, items in _group(right, schema, path).items():
                item_path = (*path, element)
                if len(items) == 1:
                    walk_added(items[0], _items(schema), item_path)
                else:
                    added.add(item_path)
        if path:
            added.add(path)

    def walk(left: Any, right: Any, schema: PatchSchema | None, path: Path) -> None:
        if _unchanged(left, right, schema):
            return
        if left is _MISSING and right is not _MISSING:
            walk_added(right, schema, path)
            return
        if _is_leaf(left, right, schema):
            if isinstance(left, _Missing):
                added.add(path)
            elif isinstance(right, _Missing):
                removed.add(path)
            elif not json_equal(left, right):
                modified.add(path)
            return
        if isinstance(left, dict) or isinstance(right, dict):
            lefts, rights = _as_dict(left), _as_dict(right)
            for name in {**lefts, **rights}:
                walk(
                    lefts.get(name, _MISSING),
                    rights.get(name, _MISSING),
                    _child(schema, name),
                    (*path, fieldpath.field(name)),
                )
        else:
            walk_items(_as_list(left), _as_list(right), schema, path)
        if path and isinstance(left, _Missing):
            added.add(path)
        elif path and isinstance(right, _Missing):
            removed.add(path)

    def walk_items(lefts: list[Any], rights: list[Any], schema: PatchSchema | None, path: Path) -> None:
        left_items, right_items = _group(lefts, schema, path), _group(rights, schema, path)
        for element in {**left_items, **right_items}:
            left, right = left_items.get(element, []), right_items.get(element, [])
            item_path = (*path, element)
            if len(left) <= 1 and len(right) <= 1:
                only_left, only_right = left[0] if left else _MISSING, right[0] if right else _MISSING
                walk(only_left, only_right, _items(schema), item_path)
            elif len(left) >= 2 and len(right) >= 2:
                if not json_equal(left, right):
                    modified.add(item_path)
            elif len(left) >= 2:
                if right:
                    walk(_MISSING, right[0], _items(schema), item_path)
                removed.add(item_path)
            else:
                if left:
                    walk(left[0], _MISSING, _items(schema), item_path)
                added.add(item_path)

    walk(old, new, schema, ())
    return Comparison(frozenset(added), frozenset(modified), frozenset(removed))


def _unchanged(left: Any, right: Any, schema: PatchSchema | None) -> bool:
    """Whether the walk of a map or list may be skipped: it is equal on both sides (an update mostly leaves
    spec or status alone), compared at C speed, and walking it would raise nothing."""
    kind = type(left)
    if (kind is not dict and kind is not list) or type(right) is not kind or left != right:
        return False
    if left is not right:  # `==` says True == 1; the encodings do not
        try:
            if orjson.dumps(left) != orjson.dumps(right):
                return False
        except orjson.JSONEncodeError:
            return False
    return _well_formed(left, schema)


def _well_formed(value: Any, schema: PatchSchema | None) -> bool:
    """Whether every granular list item inside `value` has its identity, so walking it raises nothing (a
    duplicated item, which the walk would not enter, may make this say False: the walk then decides)."""
    if isinstance(value, dict):
        if _atomic_map(schema):
            return True
        return all(
            _well_formed(child, _child(schema, name))
            for name, child in value.items()
            if isinstance(child, dict | list) and child
        )
    kind, _ = _list_kind(schema)
    if kind == "atomic":
        return True
    item_schema = _items(schema)
    for index, item in enumerate(value):
        try:
            _item_element(item, schema, (), index)
        except PatchError:
            return False
        if isinstance(item, dict | list) and item and not _well_formed(item, item_schema):
            return False
    return True


def added_fields_v1(obj: dict[str, Any], schema: PatchSchema | None) -> dict[str, Any]:
    """The fieldsV1 tree of `compare({}, obj, schema).added` (what creating `obj` adds), in one walk with no
    path sets: below the root every node is a member, so one with children carries "."."""
    out: dict[str, Any] = {}
    if not _is_leaf({}, obj, schema):
        _add_children(out, obj, schema, ())
    return out


def _add_children(out: dict[str, Any], value: Any, schema: PatchSchema | None, path: Path) -> None:
    """Adds the fieldsV1 children of a granular map or list to `out`, in upstream's element order."""
    if isinstance(value, dict):
        for name in sorted(value) if len(value) > 1 else value:  # field elements order by name
            child = value[name]
            # _is_leaf inlined, and no schema lookup for scalars: this loop is most of a create's bookkeeping.
            if isinstance(child, dict) and child:
                child_schema = _child(schema, name)
                granular = not _atomic_map(child_schema)
            elif isinstance(child, list) and child:
                child_schema = _child(schema, name)
                granular = _list_kind(child_schema)[0] != "atomic"
            else:
                granular = False
            if granular:
                node = out["f:" + name] = {".": {}}
                _add_children(node, child, child_schema, (*path, fieldpath.field(name)))
            else:
                out["f:" + name] = {}
        return
    groups = _group(value, schema, path)
    item_schema = _items(schema)
    for element in sorted(groups, key=fieldpath.element_order) if len(groups) > 1 else groups:
        items = groups[element]
        # A duplicated item is added as a whole, not field by field.
        if len(items) > 1 or _is_leaf(_MISSING, items[0], item_schema):
            out[element.encoded()] = {}
        else:
            node = out[element.encoded()] = {".": {}}
            _add_children(node, items[0], item_schema, (*path, element))


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _group(items: list[Any], schema: PatchSchema | None, path: Path) -> dict[PathElement, list[Any]]:
    grouped: dict[PathElement, list[Any]] = {}
    for index, item in enumerate(items):
        grouped.setdefault(_item_element(item, schema, path, index), []).append(item)
    return grouped


def merge(live: Any, config: Any, schema: PatchSchema | None) -> Any:
    """`config` applied over `live`: config wins on every field it sets, lists merge by item, and a null
    clears a field (a null map or list only gives up what it contained, which pruning then removes)."""
    merged = _merge(live, config, schema, ())
    return {} if isinstance(merged, _Missing) else merged


def _merge(live: Any, config: Any, schema: PatchSchema | None, path: Path) -> Any:
    if isinstance(config, _Missing):
        return json_copy(live)
    if config is None:
        # null sets nothing inside a granular map or list: the live items stay (until pruned); anything
        # else is cleared, as the typed object it is stored through drops nulls.
        return _MISSING if _is_leaf(live, _MISSING, schema) else json_copy(live)
    if _is_leaf(live, config, schema):
        return json_copy(config)
    if isinstance(config, dict):
        lives = _as_dict(live)
        out = {}
        for name in {**lives, **config}:
            child = _merge(
                lives.get(name, _MISSING),
                config.get(name, _MISSING),
                _child(schema, name),
                (*path, fieldpath.field(name)),
            )
            if not isinstance(child, _Missing):
                out[name] = child
        return out or _MISSING
    return _merge_items(_as_list(live), config, schema, path) or _MISSING


def _merge_items(lives: list[Any], configs: list[Any], schema: PatchSchema | None, path: Path) -> list[Any]:
    """Merges list items by identity in structured-merge-diff's order: live-only items stay where they
    were, configured items follow the configuration's order."""
    live_ids = [_item_element(item, schema, path, i) for i, item in enumerate(lives)]
    config_ids = [_item_element(item, schema, path, i) for i, item in enumerate(configs)]
    by_config: dict[PathElement, Any] = {}
    for element, item in zip(config_ids, configs, strict=True):
        if element in by_config:
            raise PatchError(
                f"{fieldpath.path_string(path)}: duplicate entries for key "
                f"{fieldpath.path_string((element,))}"
            )
        by_config[element] = item
    by_live: dict[PathElement, Any] = {}
    for element, item in zip(live_ids, lives, strict=True):
        # A duplicated live item has no single value to merge with: the configuration replaces it.
        by_live[element] = _MISSING if element in by_live else item
    shared = iter([element for element in config_ids if element in by_live])
    next_shared = next(shared, None)
    item_schema = _items(schema)
    out: list[Any] = []
    done: set[PathElement] = set()

    def emit(element: PathElement, live_item: Any, config_item: Any) -> None:
        merged = _merge(live_item, config_item, item_schema, (*path, element))
        if not isinstance(merged, _Missing):
            out.append(merged)

    li = ri = 0
    while li < len(lives) or ri < len(configs):
        if li < len(lives) and ri < len(configs):
            element = live_ids[li]
            if element == config_ids[ri]:
                done.add(element)
                emit(element, by_live[element], by_config[element])
                li, ri = li + 1, ri + 1
                next_shared = next(shared, None)
                continue
            if element in by_config and next_shared is not None and next_shared != element:
                li += 1
                continue
        if li < len(lives):
            element = live_ids[li]
            if element not in by_config:
                emit(element, lives[li], _MISSING)
                li += 1
                continue
            if element in done:
                li += 1
        if ri < len(configs):
            element = config_ids[ri]
            done.add(element)
            emit(element, by_live.get(element, _MISSING), by_config[element])
            ri += 1
            if next_shared == element:
                next_shared = next(shared, None)
    return out


def remove(obj: Any, fields: FieldSet, schema: PatchSchema | None) -> Any:
    """`obj` without the fields and list items in `fields`; containers emptied by it disappear."""
    pruned = _remove(obj, fields, fieldpath.proper_prefixes(fields), schema, ())
    return {} if isinstance(pruned, _Missing) else pruned


def _remove(
    value: Any, fields: FieldSet, prefixes: frozenset[Path], schema: PatchSchema | None, path: Path
) -> Any:
    if isinstance(value, dict) and not _atomic_map(schema):
        out = {}
        for name, child in value.items():
            child_path = (*path, fieldpath.field(name))
            if child_path in fields:
                continue
            if child_path in prefixes:
                child = _remove(child, fields, prefixes, _child(schema, name), child_path)
                if isinstance(child, _Missing):
                    continue
            out[name] = child
        return out or _MISSING
    if isinstance(value, list) and _list_kind(schema)[0] != "atomic":
        items = []
        for index, item in enumerate(value):
            item_path = (*path, _item_element(item, schema, path, index))
            if item_path in fields:
                continue
            if item_path in prefixes:
                item = _remove(item, fields, prefixes, _items(schema), item_path)
                if isinstance(item, _Missing):
                    continue
            items.append(item)
        return items or _MISSING
    return value
