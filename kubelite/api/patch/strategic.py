"""Strategic merge patch (`application/strategic-merge-patch+json`), as apimachinery applies it.

kubectl's client-side apply, `edit`, `set image` and `rollout restart` all send these. It is JSON merge
patch plus knowledge from the schema: a list whose patch strategy is "merge" is merged element by element
(maps by their patch merge key, primitives as an ordered set) instead of replaced, and the patch may carry
directives:

- `$patch: replace | delete | merge` in a map; in a merged list `{"$patch": "replace"}` replaces the list
  and `{"<key>": v, "$patch": "delete"}` deletes the element whose merge key is v;
- `$retainKeys: [...]`: drop every other key of this map (unions such as a Deployment's strategy);
- `$setElementOrder/<field>: [...]`: the final relative order of a merged list;
- `$deleteFromPrimitiveList/<field>: [...]`: values to remove from a merged primitive list.

Without a schema (unknown fields, free-form data) lists are replaced and maps merged: plain JSON merge
patch. Deliberate differences from upstream: `$patch: merge` is accepted as "merge here" (upstream rejects
it outside struct tags), `$patch: delete` on a map removes the key rather than leaving `{}`, and values that
land where nothing existed have their directives stripped recursively.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from kubelite.api.patch.errors import PatchError, bad_arg_type, bad_request, go_repr
from kubelite.api.patch.meta import PatchSchema
from kubelite.api.patch.values import contains, identity, json_equal

DIRECTIVE: Final = "$patch"
RETAIN_KEYS: Final = "$retainKeys"
SET_ELEMENT_ORDER: Final = "$setElementOrder"
DELETE_FROM_PRIMITIVE_LIST: Final = "$deleteFromPrimitiveList"
_LIST: Final = "[]interface {}"
_MAP: Final = "map[string]interface {}"

JSONMap = dict[str, Any]


class _Deleted:
    """What a `$patch: delete` map turns into: its key disappears from the parent."""


_DELETED: Final = _Deleted()


def strategic_merge_patch(original: Any, patch: Any, schema: PatchSchema | None) -> JSONMap:
    """`patch` applied to a copy of `original`; raises PatchError for a patch upstream would refuse."""
    if not isinstance(patch, dict):
        raise bad_request("invalid JSON document")
    base = copy.deepcopy(original) if isinstance(original, dict) else {}
    merged = _merge_map(base, patch, schema)
    return {} if isinstance(merged, _Deleted) else merged


def _merge_map(original: JSONMap, patch: JSONMap, schema: PatchSchema | None) -> JSONMap | _Deleted:
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == "replace":
            return _fresh_map(patch)
        if directive == "delete":
            return _DELETED
        if directive != "merge":
            raise _unknown_directive(directive, patch)
    return _merge_fields(original, {k: v for k, v in patch.items() if k != DIRECTIVE}, schema)


def _merge_fields(original: JSONMap, patch: JSONMap, schema: PatchSchema | None) -> JSONMap:
    """Merges a directive-free map patch into `original` in place; `patch` is consumed."""
    _retain_keys(original, patch)
    _set_element_orders(original, patch, schema)
    for key, value in patch.items():
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            _delete_from_primitive_list(original, key, value)
        elif value is None:
            original.pop(key, None)
        else:
            merged = _merge_value(original.get(key), value, schema, key)
            if isinstance(merged, _Deleted):
                original.pop(key, None)
            else:
                original[key] = merged
    return original


def _merge_value(current: Any, value: Any, schema: PatchSchema | None, key: str) -> Any:
    child, strategy = _field_strategy(schema, key)
    if isinstance(current, dict) and isinstance(value, dict):
        if strategy == "replace" and value.get(DIRECTIVE) != "merge":
            return _fresh(value)
        return _merge_map(current, value, child)
    if isinstance(current, list) and isinstance(value, list):
        return _merge_list(current, value, child, strategy)
    return _fresh(value)


def _field_strategy(schema: PatchSchema | None, name: str) -> tuple[PatchSchema | None, str]:
    """The schema of field `name` and its patch strategy without "retainKeys" ("merge", "replace" or "")."""
    child = schema.field(name) if schema is not None else None
    if child is None:
        return None, ""
    strategies = [part for part in child.patch_strategy.split(",") if part]
    others = [part for part in strategies if part != "retainKeys"]
    if len(others) > 1:
        raise PatchError(f"unexpected patch strategy: {go_repr(strategies)}")
    return child, others[0] if others else ""


def _fresh(value: Any) -> Any:
    """`value` placed where there is nothing to merge with: nulls and directives dropped, copied."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            directive = value[DIRECTIVE]
            if directive == "delete":
                return _DELETED
            if directive not in ("replace", "merge"):
                raise _unknown_directive(directive, value)
        return _fresh_map(value)
    if isinstance(value, list):
        return [_fresh(item) for item in value if not (isinstance(item, dict) and DIRECTIVE in item)]
    return value


def _fresh_map(value: JSONMap) -> JSONMap:
    out: JSONMap = {}
    for key, item in value.items():
        if item is None or _is_directive_key(key):
            continue
        copied = _fresh(item)
        if not isinstance(copied, _Deleted):
            out[key] = copied
    return out


def _is_directive_key(key: str) -> bool:
    return key in (DIRECTIVE, RETAIN_KEYS) or key.startswith((SET_ELEMENT_ORDER, DELETE_FROM_PRIMITIVE_LIST))


def _merge_list(
    original: list[Any], patch: list[Any], schema: PatchSchema | None, strategy: str
) -> list[Any]:
    if strategy != "merge":
        replaced: list[Any] = _fresh(patch)
        return replaced
    if not original and not patch:
        return original
    if _element_kind(original, patch) != "map":
        merged = _unique(original + patch)
        return _order(merged, patch, original, None)
    merge_key = schema.patch_merge_key if schema is not None else None
    if not merge_key:
        raise PatchError("cannot merge lists without merge key for object")
    remaining, items, replace = _list_directives(original, patch, merge_key)
    if replace:
        return [_fresh(item) for item in items]
    merged = list(remaining)
    item_schema = schema.items if schema is not None else None
    for item in items:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find(merged, merge_key, item[merge_key])
        if index is None:
            merged.append(_fresh(item))
        else:
            merged[index] = _merge_fields(
                merged[index], {k: v for k, v in item.items() if k != DIRECTIVE}, item_schema
            )
    return _order(merged, items, remaining, merge_key)


def _list_directives(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any], bool]:
    """Applies the special elements of a merged list: (original left, ordinary patch items, replace?)."""
    remaining = list(original)
    items: list[Any] = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            items.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            doomed = item[merge_key]
            remaining = [old for old in remaining if not _has_key_value(old, merge_key, doomed)]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            if set(item) != {DIRECTIVE}:
                items.append(item)
        else:
            raise _unknown_directive(directive, item)
    return remaining, items, replace


def _element_kind(*lists: list[Any]) -> str:
    """Whether the elements are objects ("map") or primitives ("scalar"); upstream's errors otherwise."""
    kinds = set()
    for items in lists:
        for item in items:
            if isinstance(item, list):
                raise PatchError("lists of lists are not supported")
            kinds.add("map" if isinstance(item, dict) else type(item).__name__)
    if len(kinds) > 1 and kinds != {"int", "float"}:
        raise PatchError(f"list element types are not identical: {go_repr(list(lists))}")
    return "map" if kinds == {"map"} else "scalar"


def _unique(items: list[Any]) -> list[Any]:
    seen: set[tuple[str, Any]] = set()
    out = []
    for item in items:
        if identity(item) not in seen:
            seen.add(identity(item))
            out.append(item)
    return out


def _find(items: list[Any], merge_key: str, value: Any) -> int | None:
    for index, item in enumerate(items):
        if _has_key_value(item, merge_key, value):
            return index
    return None


def _has_key_value(item: JSONMap, merge_key: str, value: Any) -> bool:
    return merge_key in item and json_equal(item[merge_key], value)


def _order(
    merged: list[Any], patch_order: list[Any], server_order: list[Any], merge_key: str | None
) -> list[Any]:
    """Upstream's element order: patch items in patch order, server-only items in server order, the two
    interleaved so that each server-only item stays before the patch items it preceded on the server."""

    def ident(item: Any) -> tuple[str, Any]:
        return identity(item.get(merge_key) if merge_key and isinstance(item, dict) else item)

    def positions(order: list[Any]) -> dict[tuple[str, Any], int]:
        found: dict[tuple[str, Any], int] = {}
        for index, item in enumerate(order):
            found.setdefault(ident(item), index)
        return found

    in_patch, on_server = positions(patch_order), positions(server_order)
    from_patch = sorted((m for m in merged if ident(m) in in_patch), key=lambda m: in_patch[ident(m)])
    server_only = sorted(
        (m for m in merged if ident(m) not in in_patch),
        key=lambda m: on_server.get(ident(m), len(server_order)),
    )
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(from_patch):
        if j >= len(from_patch):
            out.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            out.append(from_patch[j])
            j += 1
        else:
            left, right = on_server.get(ident(server_only[i]), -1), on_server.get(ident(from_patch[j]), -1)
            if left >= 0 and right >= 0 and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(from_patch[j])
                j += 1
    return out


def _retain_keys(original: JSONMap, patch: JSONMap) -> None:
    if RETAIN_KEYS not in patch:
        return
    keys = patch.pop(RETAIN_KEYS)
    if not isinstance(keys, list):
        raise bad_request("invalid patch format of retainKeys")
    allowed = {identity(key) for key in keys}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if identity(key) not in allowed:
            raise bad_request("invalid patch format of retainKeys")
    for key in [key for key in original if identity(key) not in allowed]:
        del original[key]


def _set_element_orders(original: JSONMap, patch: JSONMap, schema: PatchSchema | None) -> None:
    """Merges each list named by a `$setElementOrder/<field>` and puts it in the order given."""
    for key in [key for key in patch if key.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        field = _directive_target(key, SET_ELEMENT_ORDER, "invalid patch format of setElementOrder list")
        if not isinstance(order, list):
            raise bad_arg_type(_LIST, order)
        child, strategy = _field_strategy(schema, field)
        merge_key = (child.patch_merge_key if child is not None else None) or None
        current, patch_list = original.get(field), patch.pop(field, None)
        for given, present in ((current, field in original), (patch_list, patch_list is not None)):
            if present and not isinstance(given, list):
                raise bad_arg_type(_LIST, given)
        _check_order(patch_list or [], order, merge_key)
        if patch_list is not None and current is not None:
            merged = _merge_list(current, patch_list, child, strategy)
        elif patch_list is not None:
            merged = _fresh(patch_list)
        elif current is not None:
            merged = current
        else:
            continue
        if strategy == "merge" and merged:
            keyed = merge_key if _element_kind(merged) == "map" else None
            if keyed:
                _check_keyed(order, keyed)
            merged = _order(merged, order, current or [], keyed)
        original[field] = merged


def _check_order(patch_list: list[Any], order: list[Any], merge_key: str | None) -> None:
    """The patch's own items must appear in `order`, in the same relative order."""
    if not patch_list or not order:
        return
    if merge_key:
        _check_keyed(patch_list, merge_key)
        items = [item for item in patch_list if item.get(DIRECTIVE) != "delete"]
    else:
        items = patch_list
    p = s = 0
    while p < len(items) and s < len(order):
        if isinstance(items[p], dict) and DIRECTIVE in items[p]:
            p += 1
            continue
        if merge_key:
            _check_keyed([order[s]], merge_key)
            same = json_equal(items[p][merge_key], order[s][merge_key])
        else:
            same = json_equal(items[p], order[s])
        p += 1 if same else 0
        s += 1
    if p < len(items):
        raise PatchError(
            f"The order in patch list:\n{go_repr(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{go_repr(order)}\n"
        )


def _check_keyed(items: list[Any], merge_key: str) -> None:
    for item in items:
        if not isinstance(item, dict):
            raise bad_arg_type(_MAP, item)
        if merge_key not in item and DIRECTIVE not in item:
            raise _no_merge_key(item, merge_key)


def _delete_from_primitive_list(original: JSONMap, key: str, values: Any) -> None:
    field = _directive_target(key, DELETE_FROM_PRIMITIVE_LIST, "invalid patch format of primitive list")
    if values is None:
        original.pop(field, None)
        return
    current = original.get(field)
    if not isinstance(current, list) or not isinstance(values, list) or not (current or values):
        return
    _element_kind(current, values)
    original[field] = [item for item in current if not contains(values, item)]


def _directive_target(key: str, prefix: str, malformed: str) -> str:
    head, slash, field = key.partition("/")
    if head != prefix or not slash:
        raise bad_request(malformed)
    return field


def _no_merge_key(item: Any, merge_key: str) -> PatchError:
    return PatchError(f"map: {go_repr(item)} does not contain declared merge key: {merge_key}")


def _unknown_directive(directive: Any, where: JSONMap) -> PatchError:
    return PatchError(f"unknown patch type: {go_repr(directive)} in map: {go_repr(where)}")
