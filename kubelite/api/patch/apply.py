"""Field ownership across writes: the rules server-side apply enforces (structured-merge-diff's Updater).

Every manager owns a set of fields. An ordinary write (operation Update) takes the fields it changed
from whoever owned them. An apply (operation Apply) merges the configuration into the live object, then
removes what the manager applied last time but no longer specifies, unless someone else still owns it,
and refuses to change a field another manager owns unless forced, in which case ownership moves.

These functions work on decoded field sets; fieldmanager.py turns managedFields entries into them and
back. apiVersion, kind, metadata.name and the other identity fields are never owned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from kubelite.api.patch import fieldpath, typed
from kubelite.api.patch.errors import ApplyConflictError, Conflict, go_quote
from kubelite.api.patch.fieldpath import EMPTY, FieldSet
from kubelite.api.patch.meta import PatchSchema

APPLY: Final = "Apply"
UPDATE: Final = "Update"


@dataclass(frozen=True)
class ManagerId:
    """Who wrote: upstream keeps one entry per (manager, operation, subresource) and, for Update only,
    per apiVersion, so an applier stays one entry whatever version it applies."""

    manager: str
    operation: str
    api_version: str = ""
    subresource: str = ""

    def describe(self) -> str:
        """The manager as upstream names it in conflict messages."""
        text = go_quote(self.manager)
        if self.subresource:
            text += f" with subresource {go_quote(self.subresource)}"
        return f"{text} using {self.api_version}" if self.operation == UPDATE else text


@dataclass(frozen=True)
class ManagedSet:
    fields: FieldSet
    api_version: str
    applied: bool


Managers = dict[ManagerId, ManagedSet]

_NEVER_OWNED: Final = frozenset(
    (fieldpath.field(name),) for name in ("apiVersion", "kind", "metadata")
) | frozenset(
    (fieldpath.field("metadata"), fieldpath.field(name))
    for name in (
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    )
)


def _as_tree(fields: FieldSet) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in fields:
        node = tree
        for element in path:
            node = node.setdefault(element.encoded(), {})
    return tree


_NEVER_OWNED_TREE: Final = _as_tree(_NEVER_OWNED)  # every node of it is a never-owned path

# Stands for the write in progress while its changes are computed, so they can be added to the
# writer's existing set afterwards (upstream's "current-operation").
_CURRENT: Final = ManagerId("current-operation", "")


class Conflicts(Exception):
    """Fields an apply would change that other managers own, per manager."""

    def __init__(self, by_manager: dict[ManagerId, FieldSet]) -> None:
        super().__init__("apply conflicts")
        self.by_manager = by_manager

    def paths(self) -> FieldSet:
        return frozenset().union(*self.by_manager.values())

    def without(self, allowed: FieldSet) -> Conflicts:
        remaining = {m: fields - allowed for m, fields in self.by_manager.items()}
        return Conflicts({m: fields for m, fields in remaining.items() if fields})

    def error(self) -> ApplyConflictError:
        ordered = sorted(self.by_manager.items(), key=lambda entry: entry[0].describe())
        return ApplyConflictError(
            Conflict(manager.describe(), fieldpath.path_string(path))
            for manager, fields in ordered
            for path in fieldpath.sorted_paths(fields)
        )


def update(
    live: Any,
    new: Any,
    managers: Managers,
    writer: ManagerId,
    *,
    schema: PatchSchema | None,
    api_version: str,
    ignored: FieldSet = EMPTY,
) -> tuple[Managers, bool]:
    """Ownership after an ordinary write; the bool says whether the writer's set gained anything."""
    managers, comparison = _take_ownership(
        live, new, managers, _CURRENT, schema=schema, ignored=ignored, force=True
    )
    gained = comparison.changed() - _NEVER_OWNED
    if not gained:
        return managers, False
    previous = managers.get(writer)
    fields = gained | previous.fields if previous is not None else gained
    return {**managers, writer: ManagedSet(fields, api_version, applied=False)}, True


def created_fields_v1(obj: Any, schema: PatchSchema | None, ignored: FieldSet = EMPTY) -> dict[str, Any]:
    """The fieldsV1 of what `update({}, obj, {}, ...)` gives the creator of `obj`, without path sets: the
    added tree less the never-owned fields (their children stay) and the `ignored` subtrees. Not for a
    kind whose root is an atomic map (compare reports such a root as modified, not added)."""
    top = {path[0].text for path in ignored if len(path) == 1 and path[0].kind == "f"}
    if top:  # not walked at all: status, mostly
        obj = {name: value for name, value in obj.items() if name not in top}
    tree = typed.added_fields_v1(obj, schema)
    for element, below in _NEVER_OWNED_TREE.items():
        if element in tree:
            _disown(tree, element, below)
    for path in ignored:
        if len(path) > 1:
            _drop(tree, tuple(element.encoded() for element in path))
    return tree


def _disown(parent: dict[str, Any], element: str, below: dict[str, Any]) -> None:
    """Takes the membership of `element` and of its never-owned descendants `below` out of a tree where
    every node is a member: emptied nodes go, nodes with other children stay without "."."""
    node = parent[element]
    for child, grandchildren in below.items():
        if child in node:
            _disown(node, child, grandchildren)
    node.pop(".", None)
    if not node:
        del parent[element]


def _drop(tree: dict[str, Any], path: tuple[str, ...]) -> None:
    """Takes `path` and its subtree out of a fieldsV1 tree. An ancestor left without children disappears
    when it was not a member itself, and loses its "." when it was."""
    trail = []
    node = tree
    for element in path:
        if element not in node:
            return
        trail.append((node, element))
        node = node[element]
    parent, element = trail.pop()
    del parent[element]
    while trail and not parent:
        parent, element = trail.pop()
        del parent[element]
    if parent == {".": {}}:
        parent.clear()


def apply(
    live: Any,
    config: Any,
    managers: Managers,
    applier: ManagerId,
    *,
    schema: PatchSchema | None,
    api_version: str,
    force: bool,
    ignored: FieldSet = EMPTY,
) -> tuple[Any, Managers]:
    """The object after applying `config` and the new ownership; raises Conflicts unless `force`."""
    merged = typed.merge(live, config, schema)
    last = managers.get(applier)
    applied = fieldpath.excluding(typed.field_set(config, schema), ignored)
    managers = {**managers, applier: ManagedSet(applied, api_version, applied=True)}
    if last is not None:
        merged = _prune(merged, managers, last.fields, schema)
    managers, _ = _take_ownership(
        live, merged, managers, applier, schema=schema, ignored=ignored, force=force
    )
    kept = managers[applier].fields - _NEVER_OWNED if applier in managers else EMPTY
    managers = {m: s for m, s in managers.items() if m != applier}
    if kept:
        managers[applier] = ManagedSet(kept, api_version, applied=True)
    return merged, managers


def _take_ownership(
    live: Any,
    new: Any,
    managers: Managers,
    writer: ManagerId,
    *,
    schema: PatchSchema | None,
    ignored: FieldSet,
    force: bool,
) -> tuple[Managers, typed.Comparison]:
    """Other managers lose the fields this write changed (a conflict unless forced) or removed."""
    comparison = typed.compare(live, new, schema).excluding(ignored)
    changed = comparison.changed()
    taken = {m: s.fields & changed for m, s in managers.items() if m != writer and s.fields & changed}
    if taken and not force:
        raise Conflicts(taken)
    result: Managers = {}
    for manager, owned in managers.items():
        fields = owned.fields
        if manager != writer:
            fields = fields - taken.get(manager, EMPTY) - comparison.removed
        if fields:
            result[manager] = replace(owned, fields=fields)
    return result, comparison


def _prune(merged: Any, managers: Managers, last_applied: FieldSet, schema: PatchSchema | None) -> Any:
    """Removes what the applier applied last time and nobody (the applier included) owns now.

    Upstream's three passes: remove the last applied set; put back whatever any manager owns; finally
    remove only what was both taken out and part of the last applied set, so unowned fields the applier
    never touched (defaults, status) survive."""

    def ensure(fields: FieldSet) -> FieldSet:
        return typed.with_named_fields(fields, schema)

    last = ensure(last_applied)
    owned = ensure(frozenset().union(*(s.fields for s in managers.values())))
    everything = ensure(typed.field_set(merged, schema))
    pruned = typed.remove(merged, last, schema)
    pruned = typed.remove(merged, everything - (ensure(typed.field_set(pruned, schema)) | owned), schema)
    return typed.remove(merged, (everything - ensure(typed.field_set(pruned, schema))) & last, schema)
