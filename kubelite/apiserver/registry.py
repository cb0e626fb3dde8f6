"""Generic storage of API objects of one resource type over the versioned store.

Objects are stored as JSON under `/registry/<group-or-core>/<plural>/[<namespace>/]<name>` without their
resourceVersion: it is the key's mod_revision, put back on every read. Writes are compare-and-swap on that
revision. Every store error becomes an API error through `errors.from_store_error`, the one mapping.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from kubelite.apiserver import apiwarnings, errors, objectmeta
from kubelite.apiserver.errors import Cause
from kubelite.apiserver.resource import ApiResource
from kubelite.apiserver.strategies import Strategy
from kubelite.apiserver.validation import STRICT_REASONS
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

    # --- encoding -------------------------------------------------------------------------------------
    @staticmethod
    def decode(kv: KeyValue) -> dict[str, Any]:
        obj: dict[str, Any] = orjson.loads(kv.value)
        obj.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
        return obj

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
        try:
            kv = await self.store.get(self.resource.key(namespace, name))
        except StoreError as exc:
            raise self._error(exc, name) from exc
        return self.decode(kv), kv

    # --- writes ---------------------------------------------------------------------------------------
    def check(self, obj: dict[str, Any], old: dict[str, Any] | None, *, field_validation: str) -> None:
        """Metadata and structural validation: unknown fields are a 400 under fieldValidation=Strict, every
        other problem a 422 listing them all."""
        res = self.resource
        causes = objectmeta.metadata_causes(
            obj["metadata"], group=res.group, resource=res.plural, namespaced=res.namespaced
        )
        if old is not None:
            causes += objectmeta.finalizer_causes(obj, old)
        if self._validate is not None:
            found = self._validate(res, obj, old)
            strict = [c.message for c in found if c.reason in STRICT_REASONS]
            if strict and field_validation == "Strict":
                raise errors.bad_request("strict decoding error: " + ", ".join(strict))
            if field_validation == "Warn":
                for message in strict:
                    apiwarnings.add(message)
            causes += [c for c in found if c.reason not in STRICT_REASONS]
        if causes:
            raise errors.invalid(res.ref, obj["metadata"].get("name", ""), causes)

    async def create(
        self,
        obj: dict[str, Any],
        *,
        admit: Admit = _no_admission,
        dry_run: bool = False,
        field_validation: str = "Ignore",
        manage: Manage | None = None,
    ) -> dict[str, Any]:
        """Store a new object; `obj` has kind, apiVersion and metadata (namespace already decided)."""
        meta = obj.setdefault("metadata", {})
        objectmeta.require_name(self.resource.ref, meta)
        self.strategy.prepare_create(obj)
        objectmeta.prepare_create(obj)
        if manage is not None:
            obj = manage(None, obj)
            meta = obj["metadata"]
        generated = not meta.get("name")
        for _attempt in range(_GENERATE_NAME_RETRIES if generated else 1):
            if generated:
                meta["name"] = objectmeta.generate_name(meta["generateName"])
            self.check(obj, None, field_validation=field_validation)
            await admit("CREATE", obj, None)
            if dry_run:
                return obj
            key = self.resource.key(meta.get("namespace", ""), meta["name"])
            try:
                revision = await self.store.create(key, self.encode(obj), ttl=self.strategy.ttl_seconds)
            except AlreadyExists as exc:
                if generated:
                    continue
                raise self._error(exc, meta["name"]) from exc
            except StoreError as exc:
                raise self._error(exc, meta["name"]) from exc
            meta["resourceVersion"] = str(revision)
            return obj
        raise errors.ApiError(
            409,
            "AlreadyExists",
            f'{self.resource.ref.qualified} "{meta["name"]}" already exists, the server was not able to '
            "generate a unique name for the object",
            {"name": meta["name"], "kind": self.resource.plural, "retryAfterSeconds": 1},
        )

    def _merge(self, subresource: str, desired: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        """The object to store for a write through `subresource` ("" = the main resource)."""
        if subresource == "status":
            new = copy.deepcopy(current)
            if "status" in desired:
                new["status"] = desired["status"]
            else:
                new.pop("status", None)
            return new
        if subresource == "finalize":  # namespaces: only spec.finalizers move
            new = copy.deepcopy(current)
            new.setdefault("spec", {})["finalizers"] = (desired.get("spec") or {}).get("finalizers") or []
            return new
        new = desired
        new.setdefault("metadata", {})
        if self.resource.has_status:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
        self.strategy.prepare_update(new, current)
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
    ) -> WriteResult:
        """Read-modify-write with compare-and-swap. A resourceVersion in the desired object is a
        precondition (stale → 409); without one the write retries on races, as upstream's
        unconditional update does."""
        for _attempt in range(_CONFLICT_RETRIES):
            current, kv = await self.get(namespace, name)
            desired = transform(copy.deepcopy(current))
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
            objectmeta.bump_generation(new, current, ignore=("status",) if self.resource.has_status else ())
            if manage is not None:
                new = manage(current, new)
                meta = new["metadata"]
            self.check(new, current, field_validation=field_validation)
            await admit("UPDATE", new, current)
            finishing = (
                bool(meta.get("deletionTimestamp"))
                and not self.strategy.pending_finalizers(new)
                and not meta.get("deletionGracePeriodSeconds")
            )
            if dry_run or (new == current and not finishing):
                return WriteResult(new)
            key = self.resource.key(namespace, name)
            try:
                if finishing:
                    await self.store.delete(key, expected_revision=kv.mod_revision)
                    return WriteResult(new, deleted=True)
                revision = await self.store.update(
                    key, self.encode(new), expected_revision=kv.mod_revision, ttl=self.strategy.ttl_seconds
                )
            except (Conflict, NotFound):
                continue  # raced with another writer: re-read and re-apply
            except StoreError as exc:
                raise self._error(exc, name) from exc
            meta["resourceVersion"] = str(revision)
            return WriteResult(new)
        raise errors.conflict(self.resource.ref, name, errors.MODIFIED)
