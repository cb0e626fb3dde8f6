"""The generic REST verbs over every resource in the table: get, list, watch, create, update, patch, delete,
deletecollection; namespaced and all-namespaces paths.

Handlers parse and check the HTTP side (bodies, names, namespaces, options) and leave storage semantics to
registry.py, listing.py, deletion.py and watch.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kubelite.apiserver import bodies, deletion, errors, listing, patching, subresources, tables
from kubelite.apiserver.chain import AdmissionRequest, UserInfo
from kubelite.apiserver.context import ServerContext
from kubelite.apiserver.fieldmanagement import FieldManager
from kubelite.apiserver.registry import Admit, Registry, WriteResult
from kubelite.apiserver.requestinfo import RequestInfo
from kubelite.apiserver.resource import ApiResource
from kubelite.apiserver.validation import FIELD_VALIDATION
from kubelite.apiserver.watch import WatchStream, params

# Resources whose DELETE answers with the deleted object rather than a Status: those whose upstream store
# sets ReturnDeletedObject, which is what the official clients decode the answer as.
_RETURN_DELETED_OBJECT = {
    ("", "pods"),
    ("", "namespaces"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "resourcequotas"),
    ("", "podtemplates"),
    ("storage.k8s.io", "storageclasses"),
}


def wants_table(accept: str) -> bool:
    for media in accept.split(","):
        parts = [p.strip() for p in media.split(";")]
        params_ = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if (
            params_.get("as") == "Table"
            and params_.get("g") == "meta.k8s.io"
            and params_.get("v") in ("v1", "v1beta1")
        ):
            return True
    return False


def _query(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.query.items()}


def _dry_run(query: dict[str, str]) -> bool:
    value = query.get("dryRun")
    if value in (None, ""):
        return False
    if value != "All":
        raise errors.bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return True


def _field_validation(query: dict[str, str]) -> str:
    value = query.get("fieldValidation") or "Warn"
    if value not in FIELD_VALIDATION:
        raise errors.bad_request(
            f"fieldValidation: Unsupported value: {value!r}: supported values: " + ", ".join(FIELD_VALIDATION)
        )
    return value


class RestHandler:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    def admission(self, info: RequestInfo, user: UserInfo, *, dry_run: bool) -> Admit:
        async def admit(operation: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> None:
            subject = new if new is not None else old or {}
            meta = subject.get("metadata") or {}
            registry = self.ctx.registry_for(info)
            await self.ctx.chain.admit(
                AdmissionRequest(
                    operation=operation,
                    info=info,
                    namespace=meta.get("namespace", info.namespace),
                    name=meta.get("name", info.name),
                    obj=new,
                    old=old,
                    user=user,
                    dry_run=dry_run,
                    res=registry.resource.ref,
                )
            )

        return admit

    async def handle(self, request: web.Request, info: RequestInfo, user: UserInfo) -> web.StreamResponse:
        registry = self.ctx.registry_for(info)
        res = registry.resource
        if info.namespace and not res.namespaced:
            raise errors.path_not_found()
        if res.namespaced and not info.namespace and info.verb not in ("list", "watch"):
            raise errors.path_not_found()
        if info.subresource:
            return await subresources.handle(self, request, info, user, registry)
        action = subresources.resource_handler(res.group, res.plural)
        if action is not None:
            return await action(self, request, info, user, registry)
        if info.verb not in res.verbs:
            raise errors.method_not_allowed()
        verbs: dict[
            str, Callable[[web.Request, RequestInfo, UserInfo, Registry], Awaitable[web.StreamResponse]]
        ] = {
            "get": self.get,
            "list": self.list,
            "watch": self.watch,
            "create": self.create,
            "update": self.update,
            "patch": self.patch,
            "delete": self.delete,
            "deletecollection": self.delete_collection,
        }
        handler = verbs.get(info.verb)
        if handler is None:
            raise errors.method_not_allowed()
        return await handler(request, info, user, registry)

    # --- output -----------------------------------------------------------------------------------------
    def render(
        self,
        request: web.Request,
        registry: Registry,
        objects: list[dict[str, Any]],
        list_meta: dict[str, Any],
    ) -> dict[str, Any]:
        res = registry.resource
        printer = tables.printer_for(res.group, res.plural)
        include = request.query.get("includeObject", "Metadata")
        return tables.table(printer, objects, include=include, list_meta=list_meta)

    def object_response(
        self, request: web.Request, registry: Registry, obj: dict[str, Any], *, status: int = 200
    ) -> web.Response:
        if wants_table(request.headers.get("Accept", "")):
            return bodies.json_response(
                self.render(
                    request, registry, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
                ),
                status=status,
            )
        return bodies.json_response(obj, status=status)

    # --- reads ------------------------------------------------------------------------------------------
    async def get(
        self, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
    ) -> web.StreamResponse:
        entry = await registry.get_entry(info.namespace, info.name)
        if wants_table(request.headers.get("Accept", "")):
            return self.object_response(request, registry, registry.decode(entry.kv))
        return web.Response(body=entry.json(), headers={"Content-Type": bodies.JSON})

    async def list(
        self, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
    ) -> web.StreamResponse:
        res = registry.resource
        q = listing.parse_query(_query(request), group=res.group, resource=res.plural, watch=False)
        if not wants_table(request.headers.get("Accept", "")):
            body = await listing.list_json(registry, info.namespace, q)
            return web.Response(body=body, headers={"Content-Type": bodies.JSON})
        page = await listing.list_objects(registry, info.namespace, q)
        meta: dict[str, Any] = {"resourceVersion": str(page.revision)}
        if page.continue_token:
            meta["continue"] = page.continue_token
        return bodies.json_response(self.render(request, registry, page.items, meta))

    async def watch(
        self, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
    ) -> web.StreamResponse:
        res = registry.resource
        query = _query(request)
        if info.name:  # the legacy /watch/.../<name> path: a watch on one object
            query["fieldSelector"] = ",".join(
                filter(None, [query.get("fieldSelector"), f"metadata.name={info.name}"])
            )
        q = listing.parse_query(query, group=res.group, resource=res.plural, watch=True)
        p = params(query, bookmark_interval=self.ctx.bookmark_interval)
        encode: Callable[[dict[str, Any]], Any] | None = None
        if wants_table(request.headers.get("Accept", "")):

            def encode(obj: dict[str, Any]) -> Any:
                return self.render(
                    request, registry, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
                )

        gauge = self.ctx.metrics.longrunning.labels("WATCH", res.plural)
        gauge.inc()
        try:
            return await WatchStream(request, registry, info.namespace, q, p, encode).run()
        finally:
            gauge.dec()

    # --- writes -----------------------------------------------------------------------------------------
    def check_body(
        self,
        body: dict[str, Any],
        res: ApiResource,
        info: RequestInfo,
        *,
        kind: str = "",
        group_version: str = "",
    ) -> None:
        """Fill in or check kind, apiVersion and namespace against the path."""
        kind, group_version = kind or res.kind, group_version or res.group_version
        body_version = body.setdefault("apiVersion", group_version)
        body_kind = body.setdefault("kind", kind)
        if body_version != group_version:
            raise errors.bad_request(
                f"the API version in the data ({body_version}) does not match the expected API version "
                f"({group_version})"
            )
        if body_kind != kind:
            raise errors.bad_request(
                f"the kind in the data ({body_kind}) does not match the expected kind ({kind})"
            )
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != info.namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = info.namespace
        if info.name and meta.get("name") != info.name:
            raise errors.bad_request(
                f"the name of the object ({meta.get('name', '')}) does not match the name on the URL "
                f"({info.name})"
            )

    async def create(
        self, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
    ) -> web.StreamResponse:
        if info.name:
            raise errors.method_not_allowed()
        query = _query(request)
        dry_run = _dry_run(query)
        body = await bodies.read_object(request)
        self.check_body(body, registry.resource, info)
        fields = FieldManager.from_request(registry.resource, query, request.headers.get("User-Agent", ""))
        obj = await registry.create(
            body,
            admit=self.admission(info, user, dry_run=dry_run),
            dry_run=dry_run,
            field_validation=_field_validation(query),
            manage=fields.update,
            decoded=True,
        )
        return self.object_response(request, registry, obj, status=201)

    async def update(
        self,
        request: web.Request,
        info: RequestInfo,
        user: UserInfo,
        registry: Registry,
        *,
        subresource: str = "",
    ) -> web.StreamResponse:
        query = _query(request)
        dry_run = _dry_run(query)
        body = await bodies.read_object(request)
        self.check_body(body, registry.resource, info)
        fields = FieldManager.from_request(
            registry.resource, query, request.headers.get("User-Agent", ""), subresource=subresource
        )
        result = await registry.update(
            info.namespace,
            info.name,
            lambda _current: body,
            subresource=subresource,
            admit=self.admission(info, user, dry_run=dry_run),
            dry_run=dry_run,
            field_validation=_field_validation(query),
            manage=fields.update,
            decoded=True,
        )
        return self._write_response(request, registry, result)

    async def patch(
        self,
        request: web.Request,
        info: RequestInfo,
        user: UserInfo,
        registry: Registry,
        *,
        subresource: str = "",
    ) -> web.StreamResponse:
        query = _query(request)
        dry_run = _dry_run(query)
        content_type = bodies.media_type(request)
        document = patching.parse(content_type, await bodies.read_raw(request))
        admit = self.admission(info, user, dry_run=dry_run)
        result = await patching.patch(
            registry,
            info,
            document,
            content_type=content_type,
            fields=FieldManager.from_request(
                registry.resource, query, request.headers.get("User-Agent", ""), subresource=subresource
            ),
            subresource=subresource,
            admit=admit,
            dry_run=dry_run,
            field_validation=_field_validation(query),
        )
        return self._write_response(request, registry, result)

    def _write_response(self, request: web.Request, registry: Registry, result: WriteResult) -> web.Response:
        if result.deleted:
            return self._deleted_response(request, registry, result)
        return self.object_response(request, registry, result.obj, status=201 if result.created else 200)

    def _deleted_response(
        self, request: web.Request, registry: Registry, result: WriteResult
    ) -> web.Response:
        res = registry.resource
        if (res.group, res.plural) in _RETURN_DELETED_OBJECT or not result.deleted:
            return self.object_response(request, registry, result.obj)
        meta = result.obj.get("metadata") or {}
        details: dict[str, Any] = {
            "name": meta.get("name", ""),
            "kind": res.plural,
            "uid": meta.get("uid", ""),
        }
        if res.group:
            details["group"] = res.group
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }
        return bodies.json_response(status)

    async def _delete_options(self, request: web.Request) -> deletion.DeleteOptions:
        query = _query(request)
        body = None
        if request.can_read_body:
            raw = await bodies.read_raw(request)
            if raw.strip():
                decoded = bodies.decode(raw, bodies.media_type(request))
                if not isinstance(decoded, dict):
                    raise errors.bad_request("DeleteOptions must be an object")
                body = decoded
        return deletion.parse_options(body, query)

    async def delete(
        self, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
    ) -> web.StreamResponse:
        options = await self._delete_options(request)
        admit = self.admission(info, user, dry_run=options.dry_run)
        result = await deletion.delete(registry, info.namespace, info.name, options, admit=admit)
        return self._deleted_response(request, registry, result)

    async def delete_collection(
        self, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
    ) -> web.StreamResponse:
        res = registry.resource
        options = await self._delete_options(request)
        q = listing.parse_query(_query(request), group=res.group, resource=res.plural, watch=False)
        page = await listing.list_objects(registry, info.namespace, q)
        admit = self.admission(info, user, dry_run=options.dry_run)
        removed: list[dict[str, Any]] = []
        for obj in page.items:
            meta = obj["metadata"]
            try:
                result = await deletion.delete(
                    registry, meta.get("namespace", ""), meta["name"], options, admit=admit
                )
            except errors.ApiError as exc:
                if exc.code == 404:  # deleted meanwhile
                    continue
                raise
            removed.append(result.obj)
        page = listing.ListPage(removed, page.revision, "")
        return bodies.json_response(listing.list_body(registry, page))
