"""metadata.managedFields on every write: the API server's one call for create, update, patch and apply.

`manage_write(old, new, ...)` returns the object to store. For operation "Update" (create, update and
non-apply patches) `new` is the object about to be stored and the manager takes ownership of the fields
it changed. For "Apply" (`application/apply-patch+yaml`) `new` is the applied configuration: it is merged
into `old` (None when apply creates the object), conflicts raise ApplyConflictError (HTTP 409) unless
`force`, and the result is the merged object. Call it after defaulting for Update (upstream's creators own
the defaulted fields) and before defaulting for Apply (appliers own only what they sent).

Around the ownership rules of apply.py this module keeps upstream's bookkeeping: entries keyed by manager,
operation, apiVersion (Update only) and subresource, `time` when the manager last changed something, a
request may replace managedFields (`[]` or `[{}]` clears them), objects that predate tracking are not
tracked until their first apply (which hands their current fields to "before-first-apply"), at most ten
Update entries (older ones fold into "ancient-changes"), and the kubectl client-side to server-side apply
hand-over through the last-applied-configuration annotation.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from kubelite.api.patch import apply as ownership
from kubelite.api.patch import fieldpath, typed
from kubelite.api.patch.apply import APPLY, UPDATE, ManagedSet, ManagerId, Managers
from kubelite.api.patch.errors import PatchError, bad_request
from kubelite.api.patch.fieldpath import FieldSet
from kubelite.api.patch.meta import PatchSchema
from kubelite.api.patch.values import json_copy, json_equal

LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"
MAX_UPDATE_MANAGERS: Final = 10
_ANNOTATIONS_LIMIT: Final = 256 * 1024
_FIELD_MANAGER_LIMIT: Final = 128
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class _Managed:
    sets: Managers = field(default_factory=dict)
    times: dict[ManagerId, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=256)  # a handful of clients, each writing many times
def default_field_manager(user_agent: str) -> str:
    """The manager name of a request without ?fieldManager=: its User-Agent up to the first "/"
    ("kubectl", "Go-http-client", "OpenAPI-Generator"), printable characters, at most 128 bytes."""
    name = ""
    for char in user_agent.split("/", 1)[0]:
        if not char.isprintable():
            continue
        if len((name + char).encode()) > _FIELD_MANAGER_LIMIT:
            break
        name += char
    return name


def manage_write(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    operation: str,
    schema: PatchSchema | None,
    api_version: str,
    kind: str,
    force: bool = False,
    subresource: str = "",
    reset_fields: Collection[tuple[str, ...]] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """The object to store, with metadata.managedFields brought up to date.

    `reset_fields` are field-name paths whose subtrees the write never owns, like ("status",) for the
    main resource of a kind whose status is written through /status."""
    stamp = _stamp(int(time.time())) if now is None else now.astimezone(UTC).strftime(_TIME_FORMAT)
    ignored = _field_paths(tuple(reset_fields))
    if operation == APPLY:
        return _apply(
            old,
            new,
            manager=manager,
            schema=schema,
            api_version=api_version,
            kind=kind,
            force=force,
            subresource=subresource,
            ignored=ignored,
            stamp=stamp,
        )
    if operation == UPDATE:
        return _update(
            old,
            new,
            manager=manager or "unknown",
            schema=schema,
            api_version=api_version,
            subresource=subresource,
            ignored=ignored,
            stamp=stamp,
        )
    raise ValueError(f"operation must be {APPLY!r} or {UPDATE!r}, not {operation!r}")


@functools.lru_cache(maxsize=4)  # one stamp per second, formatted once for all that second's writes
def _stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime(_TIME_FORMAT)


@functools.lru_cache(maxsize=64)
def _field_paths(paths: tuple[tuple[str, ...], ...]) -> FieldSet:
    return frozenset(tuple(fieldpath.field(name) for name in path) for path in paths)


def _update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    schema: PatchSchema | None,
    api_version: str,
    subresource: str,
    ignored: FieldSet,
    stamp: str,
) -> dict[str, Any]:
    result = json_copy(new)
    requested = result.setdefault("metadata", {}).pop("managedFields", None)
    live = _untracked(old)
    managed = _live_or_requested(old, requested, from_subresource=bool(subresource))
    if not managed.sets and old is not None and old.get("metadata", {}).get("uid"):
        return result  # an object nobody tracked yet stays untracked until it is first applied
    writer = ManagerId(manager, UPDATE, api_version, subresource)
    if old is None and not managed.sets and not (schema is not None and schema.map_type == "atomic"):
        return _created(result, writer, schema, ignored, stamp)
    try:
        sets, gained = ownership.update(
            live,
            _untracked(result),
            managed.sets,
            writer,
            schema=schema,
            api_version=api_version,
            ignored=ignored,
        )
    except PatchError:
        # Upstream never fails a write over bookkeeping: the previous managedFields stay.
        if old is not None and "managedFields" in old.get("metadata", {}):
            result["metadata"]["managedFields"] = json_copy(old["metadata"]["managedFields"])
        return result
    times = dict(managed.times)
    if gained:
        times[writer] = stamp
    _cap_update_managers(sets, times)
    _encode(result, _Managed(sets, times))
    return result


def _created(
    result: dict[str, Any], writer: ManagerId, schema: PatchSchema | None, ignored: FieldSet, stamp: str
) -> dict[str, Any]:
    """A create by a write that sent no managedFields: the general path with nobody else's fields to
    take, its field sets built straight as the fieldsV1 tree (a create's largest cost otherwise)."""
    try:
        owned = ownership.created_fields_v1(result, schema, ignored)
    except PatchError:
        return result
    if owned:
        result["metadata"]["managedFields"] = [
            _entry(writer.manager, UPDATE, writer.api_version, stamp, owned, writer.subresource)
        ]
    return result


def _apply(
    old: dict[str, Any] | None,
    config: dict[str, Any],
    *,
    manager: str,
    schema: PatchSchema | None,
    api_version: str,
    kind: str,
    force: bool,
    subresource: str,
    ignored: FieldSet,
    stamp: str,
) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise bad_request("apply patch must be an object")
    if (config.get("apiVersion"), config.get("kind")) != (api_version, kind):
        raise bad_request(f"invalid object type: {_gvk_string(config.get('apiVersion'), config.get('kind'))}")
    if (config.get("metadata") or {}).get("managedFields") is not None:
        raise bad_request("metadata.managedFields must be nil")
    live = _untracked(old)
    managed = _decoded_or_empty(_entries(old))
    if not managed.sets:
        before = ManagerId("before-first-apply", UPDATE, api_version, subresource)
        managed.sets, gained = ownership.update(
            {}, live, {}, before, schema=schema, api_version=api_version, ignored=ignored
        )
        if gained:
            managed.times[before] = stamp
    applier = ManagerId(manager, APPLY, "", subresource)

    def run(forced: bool) -> tuple[Any, Managers]:
        return ownership.apply(
            live,
            config,
            managed.sets,
            applier,
            schema=schema,
            api_version=api_version,
            force=forced,
            ignored=ignored,
        )

    try:
        merged, sets = run(force)
    except ownership.Conflicts as conflicts:
        allowed = None
        if manager == "kubectl":
            allowed = _taken_over_from_client_side_apply(live, schema, api_version)
        if allowed is None or conflicts.paths() - allowed:
            raise (conflicts if allowed is None else conflicts.without(allowed)).error() from None
        merged, sets = run(True)
    changed = not json_equal(merged, live)
    result = merged if changed else json_copy(live)
    times = dict(managed.times)
    if changed or applier not in times:
        times[applier] = stamp
    if manager == "kubectl":
        _refresh_last_applied(result, config)
    _encode(result, _Managed(sets, times))
    return result


def _taken_over_from_client_side_apply(
    live: Any, schema: PatchSchema | None, api_version: str
) -> FieldSet | None:
    """Fields `kubectl apply --server-side` may take over from earlier client-side applies: those in the
    last-applied annotation that still hold the value it recorded. None when there is no usable one."""
    text = (live.get("metadata", {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        last = json.loads(text) if text else None
        if not isinstance(last, dict) or last.get("apiVersion") != api_version:
            return None
        comparison = typed.compare(last, live, schema)
        return typed.field_set(last, schema) - comparison.added - comparison.modified - comparison.removed
    except (ValueError, PatchError):
        return None


def _refresh_last_applied(obj: dict[str, Any], config: dict[str, Any]) -> None:
    """Keeps an existing last-applied annotation in step with server-side applies by kubectl, so a later
    client-side apply computes its patch from what was really applied."""
    annotations = obj.get("metadata", {}).get("annotations") or {}
    if not annotations.get(LAST_APPLIED):
        return
    applied = json_copy(config)
    (applied.get("metadata", {}).get("annotations") or {}).pop(LAST_APPLIED, None)
    annotations[LAST_APPLIED] = go_json(applied) + "\n"
    if sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items()) > _ANNOTATIONS_LIMIT:
        del annotations[LAST_APPLIED]


def go_json(value: Any) -> str:
    """JSON as Go's encoding/json writes it for unstructured objects: sorted keys, compact, HTML-escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def _gvk_string(api_version: Any, kind: Any) -> str:
    """Go's GroupVersionKind.String(): "apps/v1, Kind=Deployment", "/v1, Kind=Pod"."""
    group, _, version = str(api_version or "").rpartition("/")
    if "/" in group:  # not a group/version at all
        group = version = ""
    return f"{group}/{version}, Kind={kind or ''}"


def _untracked(obj: dict[str, Any] | None) -> dict[str, Any]:
    """`obj` without metadata.managedFields, which is bookkeeping rather than content."""
    if obj is None:
        return {}
    if "managedFields" not in obj.get("metadata", {}):
        return obj
    return {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"}}


def _entries(obj: dict[str, Any] | None) -> Any:
    return (obj or {}).get("metadata", {}).get("managedFields")


def _live_or_requested(old: dict[str, Any] | None, requested: Any, *, from_subresource: bool) -> _Managed:
    """Upstream honours managedFields sent with an update (a client may rewrite them), except on
    subresources; `[]` or `[{}]` clears them, anything unusable falls back to the stored ones."""
    if not from_subresource:
        if requested == [] or requested == [{}]:
            return _Managed()
        try:
            managed = _decode(requested)
            if managed.sets:
                return managed
        except ValueError:
            pass
    return _decoded_or_empty(_entries(old))


def _decoded_or_empty(entries: Any) -> _Managed:
    try:
        return _decode(entries)
    except ValueError:
        return _Managed()


def _decode(entries: Any) -> _Managed:
    managed = _Managed()
    if entries is None:
        return managed
    if not isinstance(entries, list):
        raise ValueError("managedFields must be a list")
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("managedFields entries must be objects")
        operation, api_version = entry.get("operation"), entry.get("apiVersion")
        if operation not in (APPLY, UPDATE):
            raise ValueError("operation must be `Apply` or `Update`")
        if not api_version or not isinstance(api_version, str):
            raise ValueError("apiVersion must not be empty")
        if entry.get("fieldsType") != "FieldsV1":
            raise ValueError(f"invalid fieldsType {entry.get('fieldsType')!r}")
        version_key = "" if operation == APPLY else api_version
        subresource = str(entry.get("subresource", ""))
        manager = ManagerId(str(entry.get("manager", "")), operation, version_key, subresource)
        managed.sets[manager] = ManagedSet(
            fieldpath.from_fields_v1(entry.get("fieldsV1") or {}), api_version, applied=operation == APPLY
        )
        if entry.get("time"):
            managed.times[manager] = str(entry["time"])
    return managed


def _encode(obj: dict[str, Any], managed: _Managed) -> None:
    entries = [
        _entry(
            manager.manager,
            APPLY if owned.applied else UPDATE,
            owned.api_version,
            managed.times.get(manager),
            fieldpath.to_fields_v1(owned.fields),
            manager.subresource,
        )
        for manager, owned in managed.sets.items()
    ]
    entries.sort(
        key=lambda e: (
            e["operation"],
            e.get("time", ""),
            e["manager"],
            e["apiVersion"],
            e.get("subresource", ""),
        )
    )
    metadata = obj.setdefault("metadata", {})
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)


def _entry(
    manager: str,
    operation: str,
    api_version: str,
    stamp: str | None,
    fields_v1: dict[str, Any],
    subresource: str,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"manager": manager, "operation": operation, "apiVersion": api_version}
    if stamp is not None:
        entry["time"] = stamp
    entry["fieldsType"] = "FieldsV1"
    entry["fieldsV1"] = fields_v1
    if subresource:
        entry["subresource"] = subresource
    return entry


def _cap_update_managers(sets: Managers, times: dict[ManagerId, str]) -> None:
    """Folds the oldest Update entries into one "ancient-changes" entry per apiVersion beyond ten."""
    updaters = sorted(
        (m for m, s in sets.items() if not s.applied),
        key=lambda m: (times.get(m, ""), m.manager, m.operation, m.api_version, m.subresource),
    )
    remaining = len(updaters)
    first_by_version: dict[str, ManagerId] = {}
    for manager in updaters:
        if remaining <= MAX_UPDATE_MANAGERS:
            break
        owned = sets[manager]
        bucket = ManagerId("ancient-changes", UPDATE, owned.api_version)
        first = first_by_version.setdefault(owned.api_version, manager)
        if first == manager:
            continue
        if bucket not in sets:
            sets[bucket] = sets.pop(first)
        sets[bucket] = ManagedSet(owned.fields | sets[bucket].fields, owned.api_version, applied=False)
        del sets[manager]
        remaining -= 1
        if manager in times:
            times[bucket] = times[manager]
