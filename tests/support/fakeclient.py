"""An in-memory stand-in for kubelite.client.RestClient, for unit tests that call a controller's reconcile.

It implements the few verbs controllers write with (create, get, update, patch, delete) over a dict of
objects, assigns names, uids and resourceVersions as the API server would, keeps finalizers' semantics
(delete sets deletionTimestamp while finalizers remain), and records every write in `actions`. `sync`
pushes its objects into informers, so the next reconcile sees them in its caches. It is not an API server:
no validation, defaulting or admission.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonpatch

from kubelite.api.patch.merge import json_merge_patch
from kubelite.api.resources import Resource
from kubelite.client import errors
from kubelite.client.informer import Informer, InformerFactory
from kubelite.client.rest import PatchType
from kubelite.controllers.context import ControllerContext, ManagerConfig

Key = tuple[str, str, str]  # (plural, namespace, name)


@dataclass
class Action:
    verb: str
    plural: str
    namespace: str
    name: str
    subresource: str = ""
    body: Any = None


@dataclass
class FakeRecorder:
    """Records events in memory instead of writing them: (reason, message, type, object name)."""

    events: list[tuple[str, str, str, str]] = field(default_factory=list)

    def record(
        self, obj: Mapping[str, Any], *, reason: str, message: str, event_type: str = "Normal"
    ) -> None:
        self.events.append((reason, message, event_type, str((obj.get("metadata") or {}).get("name", ""))))

    def reasons(self) -> list[str]:
        return [reason for reason, *_ in self.events]

    async def run(self) -> None:
        return None


class FakeClient:
    def __init__(self) -> None:
        self.objects: dict[Key, dict[str, Any]] = {}
        self.actions: list[Action] = []
        self._revision = itertools.count(1)
        self._names = itertools.count(1)
        self.now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)

    # Seeding and reading back

    def add(self, res: Resource, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Store an object as if someone else had created it (not recorded as an action)."""
        return self._store(res, copy.deepcopy(dict(obj)))

    def items(self, res: Resource, namespace: str | None = None) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(obj)
            for (plural, ns, _), obj in sorted(self.objects.items())
            if plural == res.plural and (namespace is None or ns == namespace)
        ]

    def sync(self, *informers: Informer) -> None:
        """Make each informer's cache equal this client's objects of its resource."""
        for informer in informers:
            informer.replace(self.items(informer.resource), str(self._last_revision()))

    def writes(self, verb: str | None = None, plural: str | None = None) -> list[Action]:
        return [
            a
            for a in self.actions
            if (verb is None or a.verb == verb) and (plural is None or a.plural == plural)
        ]

    def verbs(self, verb: str) -> list[Action]:
        return self.writes(verb)

    def stored(self, res: Resource, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        found = self.objects.get(self._key(res, name, namespace))
        return None if found is None else copy.deepcopy(found)

    # The verbs controllers use

    async def get(
        self, res: Resource, name: str, *, namespace: str | None = None, subresource: str | None = None
    ) -> dict[str, Any]:
        return copy.deepcopy(self._find(res, name, namespace))

    async def create(
        self,
        res: Resource,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        body = copy.deepcopy(dict(obj))
        meta = body.setdefault("metadata", {})
        if namespace is not None:
            meta["namespace"] = namespace
        if not meta.get("name"):
            meta["name"] = f"{meta.get('generateName', '')}{next(self._names):05d}"
        if self._key(res, meta["name"], meta.get("namespace")) in self.objects:
            raise errors.AlreadyExists(409, "AlreadyExists", f'{res.plural} "{meta["name"]}" already exists')
        stored = self._store(res, body)
        self.actions.append(
            Action("create", res.plural, meta.get("namespace", ""), meta["name"], body=stored)
        )
        return copy.deepcopy(stored)

    async def update(
        self,
        res: Resource,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        subresource: str | None = None,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        meta = obj["metadata"]
        current = self._find(res, meta["name"], namespace or meta.get("namespace"))
        expected = meta.get("resourceVersion")
        if expected and expected != current["metadata"]["resourceVersion"]:
            raise errors.Conflict(409, "Conflict", "the object has been modified")
        body = copy.deepcopy(dict(obj))
        if subresource == "status":
            body = {**current, "status": body.get("status")}
        body["metadata"] = {**current["metadata"], **({} if subresource else body["metadata"])}
        stored = self._store(res, body)
        self.actions.append(
            Action("update", res.plural, meta.get("namespace", ""), meta["name"], subresource or "", stored)
        )
        return copy.deepcopy(stored)

    async def patch(
        self, res: Resource, name: str, patch: Any, *, namespace: str | None = None, **options: Any
    ) -> dict[str, Any]:
        current = self._find(res, name, namespace)
        expected = (patch.get("metadata") or {}).get("resourceVersion")
        if expected and expected != current["metadata"]["resourceVersion"]:
            raise errors.Conflict(409, "Conflict", "the object has been modified")
        stored = self._store(res, json_merge_patch(copy.deepcopy(current), patch))
        self.actions.append(
            Action("patch", res.plural, namespace or "", name, options.get("subresource") or "", patch)
        )
        self._collect(res, stored)
        return copy.deepcopy(stored)

    async def delete(
        self, res: Resource, name: str, *, namespace: str | None = None, **options: Any
    ) -> dict[str, Any]:
        current = self._find(res, name, namespace)
        uid = options.get("precondition_uid")
        if uid is not None and uid != current["metadata"]["uid"]:
            raise errors.Conflict(409, "Conflict", "Precondition failed: UID in precondition")
        self.actions.append(Action("delete", res.plural, namespace or "", name, body=options))
        if current["metadata"].get("finalizers"):
            current["metadata"].setdefault("deletionTimestamp", self.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
            return copy.deepcopy(self._store(res, current))
        del self.objects[self._key(res, name, namespace)]
        return {"kind": "Status", "status": "Success"}

    # Internals

    def _key(self, res: Resource, name: str, namespace: str | None) -> Key:
        return (res.plural, namespace or "" if res.namespaced else "", name)

    def _find(self, res: Resource, name: str, namespace: str | None) -> dict[str, Any]:
        found = self.objects.get(self._key(res, name, namespace))
        if found is None:
            raise errors.NotFound(404, "NotFound", f'{res.plural} "{name}" not found')
        return found

    def _last_revision(self) -> int:
        return max((int(o["metadata"]["resourceVersion"]) for o in self.objects.values()), default=0)

    def _store(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", self.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        meta.setdefault("generation", 1)
        meta["resourceVersion"] = str(next(self._revision))
        obj.setdefault("kind", res.kind)
        obj.setdefault("apiVersion", res.api_version)
        self.objects[self._key(res, meta["name"], meta.get("namespace"))] = obj
        return obj

    def _collect(self, res: Resource, obj: dict[str, Any]) -> None:
        """An object being deleted goes once its last finalizer does."""
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            del self.objects[self._key(res, meta["name"], meta.get("namespace"))]


def make_context(fake: FakeClient, **config: Any) -> ControllerContext:
    """A controller context over `fake`, with ManagerConfig defaults overridden by `config`."""
    settings = ManagerConfig(kubeconfig=Path("unused-in-unit-tests"), **config)
    return ControllerContext(client=fake, informers=InformerFactory(fake), config=settings)  # type: ignore[arg-type]


def seed(informer: Informer, *objs: Mapping[str, Any]) -> None:
    """Put objects straight into an informer's cache, as if its watch had delivered them."""
    for obj in objs:
        informer.apply_event("ADDED", dict(obj))


class FakeClusterClient(FakeClient):
    """FakeClient plus what the housekeeping controllers (garbage collector, namespace) rely on: lists,
    an update that removes the last finalizer of a deleting object deletes it, delete preconditions on
    resourceVersion, and a namespace's spec.finalizers holding it back like metadata finalizers."""

    async def list(self, res: Resource, *, namespace: str | None = None, **_: Any) -> dict[str, Any]:
        items = self.items(res, namespace)
        return {"kind": res.list_kind, "apiVersion": res.api_version, "metadata": {}, "items": items}

    async def list_all(self, res: Resource, *, namespace: str | None = None, **_: Any) -> dict[str, Any]:
        return await self.list(res, namespace=namespace)

    async def update(self, res: Resource, obj: Mapping[str, Any], **options: Any) -> dict[str, Any]:
        stored = await super().update(res, obj, **options)
        meta = stored["metadata"]
        if meta.get("deletionTimestamp") and not self._holds(stored):
            del self.objects[self._key(res, meta["name"], meta.get("namespace"))]
        return stored

    async def delete(
        self, res: Resource, name: str, *, namespace: str | None = None, **options: Any
    ) -> dict[str, Any]:
        current = self._find(res, name, namespace)
        expected = options.get("precondition_resource_version")
        if expected is not None and expected != current["metadata"]["resourceVersion"]:
            raise errors.Conflict(409, "Conflict", "Precondition failed: ResourceVersion in precondition")
        if res.plural == "namespaces" and self._holds(current):
            self.actions.append(Action("delete", res.plural, "", name, body=options))
            current["metadata"].setdefault("deletionTimestamp", self.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
            return copy.deepcopy(self._store(res, current))
        return await super().delete(res, name, namespace=namespace, **options)

    @staticmethod
    def _holds(obj: Mapping[str, Any]) -> bool:
        spec = obj.get("spec") or {}
        namespace_finalizers = spec.get("finalizers") if obj.get("kind") == "Namespace" else None
        return bool(obj["metadata"].get("finalizers") or namespace_finalizers)


def forget_all(informer: Informer) -> None:
    """Empty an informer's cache, as if its watch had delivered a deletion for everything in it."""
    informer.replace([], informer.last_sync_resource_version)


class JsonPatchingFakeClient(FakeClient):
    """FakeClient that also applies JSON patches (RFC 6902, `test` operations included, a failed test
    raising Invalid as the API server answers), for controllers that adopt and release with them."""

    async def patch(
        self, res: Resource, name: str, patch: Any, *, namespace: str | None = None, **options: Any
    ) -> dict[str, Any]:
        if options.get("patch_type") != PatchType.JSON:
            return await super().patch(res, name, patch, namespace=namespace, **options)
        current = self._find(res, name, namespace)
        try:
            patched = jsonpatch.JsonPatch(patch).apply(copy.deepcopy(current))
        except jsonpatch.JsonPatchException as exc:
            raise errors.Invalid(422, "Invalid", str(exc)) from exc
        stored = self._store(res, patched)
        self.actions.append(Action("patch", res.plural, namespace or "", name, "", patch))
        return copy.deepcopy(stored)
