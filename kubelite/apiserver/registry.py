"""Generic storage of API objects of one resource type over the versioned store.

Objects are stored as JSON under `/registry/<group-or-core>/<plural>/[<namespace>/]<name>` without their
resourceVersion: it is the key's mod_revision, put back on every read. Writes are compare-and-swap on that
revision. Every store error becomes an API error through `errors.from_store_error`, the one mapping.

Every write runs upstream's pipeline: structural validation of what the client sent, defaulting
(kubelite.api.defaults; objects read for an update are defaulted too), field ownership, the server-set
fields and the kind's strategy, admission, reservations outside the object's key (a Service's addresses),
per-kind validation (kubelite.api.validation) and the compare-and-swap write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from kubelite.api import defaults, validation
from kubelite.api.patch.values import json_copy
from kubelite.apiserver import apiwarnings, errors, objectmeta, watchcache
from kubelite.apiserver.errors import Cause
from kubelite.apiserver.resource import ApiResource
from kubelite.apiserver.strategies import Strategy
from kubelite.apiserver.validation import STRICT_REASONS
from kubelite.apiserver.watchcache import Entry, RecentEntries, WatchCache
from kubelite.store import AlreadyExists, Conflict, KeyValue, NotFound, Store, StoreError

# An admission hook: (operation, new object or None, old object or None) → may mutate or raise ApiError.
Admit = Callable[[str, dict[str, Any] | None, dict[str, Any] | None], Awaitable[None]]
# Structural validation of a whole object (new, old-or-None) → field errors; supplied by the schema package.
Validate = Callable[[ApiResource, dict[str, Any], dict[str, Any] | None], list[Cause]]
# Turns the current object into the desired one (PUT: the body; PATCH: the patched object).
Transform = Callable[[dict[str, Any]], dict[str, Any]]
# Records field ownership: (old or None, new) -> the object to store (fieldmanagement.FieldManager.update).
Manage = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]

_CONFLICT_RETRIES = 8
_GENERATE_NAME_RETRIES = 5


async def _no_admission(operation: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> None:
    return None


@dataclass(frozen=True, slots=True)
class WriteResult:
    obj: dict[str, Any]
    created: bool = False
    deleted: bool = False  # an update that removed the last finalizer of a deleting object


class Registry:
    def __init__(
        self, store: Store, resource: ApiResource, strategy: Strategy, *, validate: Validate | None = None
    ) -> None:
        self.store = store
        self.resource = resource
        self.strategy = strategy
        self._validate = validate
        # Serves consistent reads from memory (ServerContext sets it for the resources it caches).
        self.cache: WatchCache | None = None
        self.recent_events = RecentEntries()  # shared by this resource's watchers

    # --- encoding -------------------------------------------------------------------------------------
    @staticmethod
    def decode(kv: KeyValue) -> dict[str, Any]:
        return watchcache.decode(kv)

    @staticmethod
    def encode(obj: dict[str, Any]) -> bytes:
        meta = obj["metadata"]
        revision = meta.pop("resourceVersion", None)
        try:
            return orjson.dumps(obj)
        finally:
            if revision is not None:
                meta["resourceVersion"] = revision

    def _error(self, exc: StoreError, name: str) -> errors.ApiError:
        return errors.from_store_error(exc, self.resource.ref, name)

    # --- reads ----------------------------------------------------------------------------------------
    async def get(self, namespace: str, name: str) -> tuple[dict[str, Any], KeyValue]:
        """The object (a fresh copy the caller may change) and its stored KeyValue."""
        entry = await self.get_entry(namespace, name)
        return self.decode(entry.kv), entry.kv

    async def get_entry(self, namespace: str, name: str) -> Entry:
        """The current object: from the watch cache when it is consistent, else from the store."""
        key = self.resource.key(namespace, name)
        cached = await self.cache.consistent(self.resource.storage_prefix) if self.cache else None
        if cached is not None:
            entry = cached.entries.get(key)
            if entry is None:
                raise self._error(NotFound(f"key {key!r} not found"), name)
            return entry
        try:
            return Entry(await self.store.get(key))
        except StoreError as exc:
            raise self._error(exc, name) from exc

    # --- writes ---------------------------------------------------------------------------------------
    def check_structure(
        self, obj: dict[str, Any], old: dict[str, Any] | None, *, field_validation: str, decoded: bool = False
    ) -> None:
        """Structural validation (and the generic metadata rules for kinds kubelite.api.validation does not
        cover): unknown fields are a 400 under fieldValidation=Strict, every other problem a 422. `decoded`:
        `obj` is a request body (POST, PUT), whose decoding errors upstream words with the kind."""
        res = self.resource
        causes: list[Cause] = []
        if not validation.covers(res.group, res.kind):
            causes += objectmeta.metadata_causes(
                obj["metadata"], group=res.group, resource=res.plural, namespaced=res.namespaced
            )
            if old is not None:
                causes += objectmeta.finalizer_causes(obj, old)
        if self._validate is not None:
            found = self._validate(res, obj, old)
            strict = [c.message for c in found if c.reason in STRICT_REASONS]
            if strict and field_validation == "Strict":
                why = "strict decoding error: " + ", ".join(strict)
                if decoded:
                    why = f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: {why}'
                raise errors.bad_request(why)
            if field_validation == "Warn":
                for message in strict:
                    apiwarnings.add(message)
            causes += [c for c in found if c.reason not in STRICT_REASONS]
        if causes:
            raise errors.invalid(res.ref, obj["metadata"].get("name", ""), causes)

    def check_semantics(
        self, obj: dict[str, Any], old: dict[str, Any] | None, *, subresource: str = ""
    ) -> None:
        """Upstream's per-kind validation of the defaulted, fully prepared object (422 Invalid)."""
        found = (
            validation.validate_create(obj)
            if old is None
            else validation.validate_update(obj, old, subresource=subresource)
        )
        if found:
            causes = [Cause(c.reason, c.message, c.field) for c in found]
            raise errors.invalid(self.resource.ref, obj["metadata"].get("name", ""), causes)

    async def create(
        self,
        obj: dict[str, Any],
        *,
        admit: Admit = _no_admission,
        dry_run: bool = False,
        field_validation: str = "Ignore",
        manage: Manage | None = None,
        trusted: bool = False,
        decoded: bool = False,
    ) -> dict[str, Any]:
        """Store a new object; `obj` has kind, apiVersion and metadata (namespace already decided).

        Structural validation, defaulting, field ownership, then per attempt (a generated name may be
        taken): name, uid and timestamps, the kind's own fields, admission, reservations (service
        addresses), semantic validation and the store. `trusted` objects are the server's own records
        (the `kubernetes` Endpoints at a loopback address): semantic validation does not apply to them.
        `decoded`: `obj` is the request body (see check_structure)."""
        res = self.resource
        meta = obj.setdefault("metadata", {})
        if not validation.covers(res.group, res.kind):
            objectmeta.require_name(res.ref, meta)
        self.check_structure(obj, None, field_validation=field_validation, decoded=decoded)
        defaults.default(obj)
        if manage is not None:
            obj = manage(None, obj)
        generated = not obj["metadata"].get("name") and bool(obj["metadata"].get("generateName"))
        for _attempt in range(_GENERATE_NAME_RETRIES if generated else 1):
            candidate = json_copy(obj) if generated else obj
            meta = candidate["metadata"]
            if generated:
                meta["name"] = objectmeta.generate_name(meta["generateName"])
            objectmeta.prepare_create(candidate, generation=self.strategy.tracks_generation(candidate))
            self.strategy.prepare_create(candidate)
            await admit("CREATE", candidate, None)
            try:
                revision = await self._store_new(candidate, dry_run=dry_run, trusted=trusted)
            except AlreadyExists as exc:
                if generated:
                    continue
                raise self._error(exc, meta["name"]) from exc
            if revision:
                meta["resourceVersion"] = str(revision)
            return candidate
        raise errors.ApiError(
            409,
            "AlreadyExists",
            f'{res.ref.qualified} "{meta["name"]}" already exists, the server was not able to '
            "generate a unique name for the object",
            {"name": meta["name"], "kind": res.plural, "retryAfterSeconds": 1},
        )

    async def _store_new(self, obj: dict[str, Any], *, dry_run: bool, trusted: bool) -> int:
        """Reserve, validate and create; the new revision (0 for a dry run). Nothing stays reserved
        unless the object was stored."""
        reservation = await self.strategy.begin_create(obj, dry_run=dry_run)
        try:
            if not trusted:
                self.check_semantics(obj, None)
            if dry_run:
                await reservation.abort()
                return 0
            meta = obj["metadata"]
            key = self.resource.key(meta.get("namespace", ""), meta["name"])
            try:
                revision = await self.store.create(key, self.encode(obj), ttl=self.strategy.ttl_seconds)
            except AlreadyExists:
                raise
            except StoreError as exc:
                raise self._error(exc, meta["name"]) from exc
        except BaseException:
            await reservation.abort()
            raise
        await reservation.commit()
        return revision

    def _merge(self, subresource: str, desired: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        """The object to store for a write through `subresource` ("" = the main resource)."""
        if subresource == "status":
            new = json_copy(current)
            if "status" in desired:
                new["status"] = desired["status"]
            else:
                new.pop("status", None)
            return new
        if subresource == "finalize":  # namespaces: only spec.finalizers move
            new = json_copy(current)
            new.setdefault("spec", {})["finalizers"] = (desired.get("spec") or {}).get("finalizers") or []
            return new
        new = desired
        new.setdefault("metadata", {})
        if subresource:  # pods/binding and the like: their handler built the whole object
            return new
        if self.resource.has_status:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
        return new

    async def update(
        self,
        namespace: str,
        name: str,
        transform: Transform,
        *,
        subresource: str = "",
        admit: Admit = _no_admission,
        dry_run: bool = False,
        field_validation: str = "Ignore",
        manage: Manage | None = None,
        trusted: bool = False,
        decoded: bool = False,
    ) -> WriteResult:
        """Read-modify-write with compare-and-swap. A resourceVersion in the desired object is a
        precondition (stale → 409); without one the write retries on races, as upstream's
        unconditional update does.

        The stored object is defaulted as upstream defaults what it reads; the new one is structurally
        validated, defaulted, prepared, admitted, given its reservations and validated against the old."""
        for _attempt in range(_CONFLICT_RETRIES):
            current, kv = await self.get(namespace, name)
            defaults.default(current)
            desired = transform(json_copy(current))
            wanted_rv = (desired.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and str(wanted_rv) != current["metadata"]["resourceVersion"]:
                raise errors.conflict(self.resource.ref, name, errors.MODIFIED)
            new = self._merge(subresource, desired, current)
            meta = new["metadata"]
            meta["name"], meta["resourceVersion"] = name, current["metadata"]["resourceVersion"]
            if self.resource.namespaced:
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            objectmeta.carry_over_system_fields(new, current)
            self.check_structure(new, current, field_validation=field_validation, decoded=decoded)
            defaults.default(new)
            if not subresource:
                self.strategy.prepare_update(new, current)
            objectmeta.bump_generation(
                new,
                current,
                ignore=("status",) if self.resource.has_status else (),
                tracked=self.strategy.tracks_generation(new),
            )
            if manage is not None:
                new = manage(current, new)
            await admit("UPDATE", new, current)
            try:
                return await self._store_update(
                    new, current, kv, subresource=subresource, dry_run=dry_run, trusted=trusted
                )
            except (Conflict, NotFound):
                continue  # raced with another writer: re-read and re-apply
        raise errors.conflict(self.resource.ref, name, errors.MODIFIED)

    async def _store_update(
        self,
        new: dict[str, Any],
        current: dict[str, Any],
        kv: KeyValue,
        *,
        subresource: str,
        dry_run: bool,
        trusted: bool,
    ) -> WriteResult:
        """Reserve, validate and write (or delete, when the last finalizer went) at `kv`'s revision. Store
        conflicts propagate for the caller to retry; nothing stays reserved unless the write was stored."""
        meta, name = new["metadata"], new["metadata"]["name"]
        reservation = await self.strategy.begin_update(new, current, dry_run=dry_run)
        try:
            if not trusted:
                self.check_semantics(new, current, subresource=subresource)
            finishing = (
                bool(meta.get("deletionTimestamp"))
                and not self.strategy.pending_finalizers(new)
                and not meta.get("deletionGracePeriodSeconds")
            )
            if dry_run or (new == current and not finishing):
                await reservation.abort()
                return WriteResult(new)
            key = self.resource.key(meta.get("namespace", ""), name)
            try:
                if finishing:
                    await self.store.delete(key, expected_revision=kv.mod_revision)
                else:
                    revision = await self.store.update(
                        key,
                        self.encode(new),
                        expected_revision=kv.mod_revision,
                        ttl=self.strategy.ttl_seconds,
                    )
            except (Conflict, NotFound):
                raise
            except StoreError as exc:
                raise self._error(exc, name) from exc
        except BaseException:
            await reservation.abort()
            raise
        await reservation.commit()
        if finishing:
            await self.strategy.after_delete(new)
            return WriteResult(new, deleted=True)
        meta["resourceVersion"] = str(revision)
        return WriteResult(new)
