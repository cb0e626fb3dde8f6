"""The REST client: every verb of the Kubernetes API for any resource, over one aiohttp session.

Objects are plain JSON dicts in and out. Each call names its resource with a `kubelite.api.resources.Resource`
(see `kubelite.client.paths` to find one by group/version/plural or apiVersion/kind). Failures raise the
hierarchy of `kubelite.client.errors`, built from the server's Status once, here.

    async with RestClient.from_kubeconfig(path, user_agent="kubelite-scheduler") as client:
        cm = await client.get(CONFIGMAPS, "settings", namespace="default")
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import aiohttp
import orjson

from kubelite.api.resources import Resource
from kubelite.client import errors, kubeconfig, paths
from kubelite.client.watch import Watch

JSON = dict[str, Any]
Params = dict[str, str]


class PatchType(enum.StrEnum):
    MERGE = "application/merge-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    JSON = "application/json-patch+json"
    APPLY = "application/apply-patch+yaml"  # server-side apply; JSON is valid YAML


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _namespace(res: Resource, obj: Mapping[str, Any], namespace: str | None) -> str | None:
    """The namespace argument, else the object's own; a namespaced resource must have one."""
    ns = namespace or _meta(obj).get("namespace")
    if res.namespaced and not ns:
        raise ValueError(f"{res.plural} are namespaced: give a namespace or set metadata.namespace")
    return str(ns) if res.namespaced else None


def _name(obj: Mapping[str, Any]) -> str:
    name = _meta(obj).get("name")
    if not name:
        raise ValueError("the object has no metadata.name")
    return str(name)


def _optional(**params: str | int | bool | None) -> Params:
    """Query parameters, skipping the unset ones; booleans spelled as the API spells them."""
    out: Params = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


class RestClient:
    """One session (one bounded connection pool) per client; close it with `close()` or `async with`.

    Each open watch holds a connection of its own, so `max_connections` must exceed the number of watches."""

    def __init__(
        self,
        config: kubeconfig.KubeConfig,
        *,
        user_agent: str = "kubelite",
        max_connections: int = 64,
        request_timeout: float = 60.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.config = config
        self._ssl = config.ssl_context()
        self._user_agent = user_agent
        self._max_connections = max_connections
        self._request_timeout = aiohttp.ClientTimeout(total=request_timeout, sock_connect=connect_timeout)
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_kubeconfig(
        cls, path: str | os.PathLike[str] | None = None, *, context: str | None = None, **options: Any
    ) -> RestClient:
        return cls(kubeconfig.load(path, context=context), **options)

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self._ssl if self._ssl is not None else True, limit=self._max_connections
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._request_timeout,
                headers={"User-Agent": self._user_agent, "Accept": "application/json"},
            )
        return self._session

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {}
        token = self.config.bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        content_type: str | None = "application/json",
        client_timeout: aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        """Send a request; raise the mapped ApiError for a failure status, TransportError when unreachable.
        The caller reads (or closes) the returned response."""
        data = None if body is None else orjson.dumps(body)
        try:
            response = await self._http().request(
                method,
                self.config.server + path,
                params=params,
                data=data,
                headers=self._headers(content_type if data is not None else None),
                timeout=client_timeout or self._request_timeout,
                server_hostname=self.config.tls_server_name,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise errors.TransportError(f"{method} {path}: {exc!r}") from exc
        if response.status < 400:
            return response
        try:
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise errors.TransportError(f"{method} {path}: {exc!r}") from exc
        finally:
            response.release()
        try:
            status = orjson.loads(raw)
        except orjson.JSONDecodeError:
            status = None
        raise errors.from_status(response.status, status)

    async def _call(self, method: str, path: str, **kwargs: Any) -> JSON:
        response = await self._send(method, path, **kwargs)
        try:
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise errors.TransportError(f"{method} {path}: {exc!r}") from exc
        finally:
            response.release()
        try:
            decoded: JSON = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise errors.TransportError(f"{method} {path}: the answer is not JSON: {raw[:200]!r}") from exc
        return decoded

    # Reading

    async def get(
        self, res: Resource, name: str, *, namespace: str | None = None, subresource: str | None = None
    ) -> JSON:
        return await self._call(
            "GET", paths.path(res, namespace=namespace, name=name, subresource=subresource)
        )

    async def list(
        self,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        resource_version: str | None = None,
    ) -> JSON:
        """One page of a list. Items carry kind and apiVersion (the server may leave them out)."""
        params = _optional(
            labelSelector=label_selector or None,
            fieldSelector=field_selector or None,
            limit=limit,
            resourceVersion=resource_version,
        )
        params.update(_optional(**{"continue": continue_token or None}))
        page = await self._call("GET", paths.path(res, namespace=namespace), params=params)
        for item in page.get("items") or []:
            item.setdefault("kind", res.kind)
            item.setdefault("apiVersion", res.api_version)
        return page

    async def list_all(
        self,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
    ) -> JSON:
        """Every matching object, paging `page_size` at a time; the result is one List whose resourceVersion
        is the consistent snapshot all pages came from. If a continue token expires mid-way (the snapshot was
        compacted), the list starts over unpaged, as client-go's pager does."""
        selectors: dict[str, Any] = {
            "namespace": namespace,
            "label_selector": label_selector,
            "field_selector": field_selector,
        }
        items: list[JSON] = []
        token: str | None = None
        while True:
            try:
                page = await self.list(res, limit=page_size, continue_token=token, **selectors)
            except errors.Expired:
                if token is None:
                    raise
                return await self.list(res, **selectors)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or None
            if token is None:
                page["items"] = items
                return page

    def watch(
        self,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int | None = None,
        bookmarks: bool = True,
    ) -> Watch:
        """Changes after `resource_version` (without one: ADDED for every current object first). The server
        ends the stream after `timeout_seconds`; use the returned Watch with `async with`."""
        params = _optional(
            watch=True,
            labelSelector=label_selector or None,
            fieldSelector=field_selector or None,
            resourceVersion=resource_version,
            timeoutSeconds=timeout_seconds,
            allowWatchBookmarks=True if bookmarks else None,
        )
        # No read timeout: a quiet watch is healthy. The total bounds a stream the server forgot to end.
        total = None if timeout_seconds is None else timeout_seconds + 30.0
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=self._connect_timeout)
        path = paths.path(res, namespace=namespace)

        async def open_stream() -> aiohttp.ClientResponse:
            return await self._send("GET", path, params=params, client_timeout=timeout)

        return Watch(open_stream, resource_version=resource_version or "")

    # Writing

    async def create(
        self,
        res: Resource,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
    ) -> JSON:
        ns = _namespace(res, obj, namespace)
        params = _optional(fieldManager=field_manager)
        return await self._call("POST", paths.path(res, namespace=ns), params=params, body=obj)

    async def create_subresource(
        self,
        res: Resource,
        name: str,
        subresource: str,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
    ) -> JSON:
        """POST to a subresource: pods/binding (a Binding), pods/eviction (a policy/v1 Eviction)."""
        path = paths.path(res, namespace=namespace, name=name, subresource=subresource)
        return await self._call("POST", path, body=body)

    async def update(
        self,
        res: Resource,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        subresource: str | None = None,
        field_manager: str | None = None,
    ) -> JSON:
        """PUT the whole object (or its status/scale subresource). metadata.resourceVersion, when set, makes
        the write conditional: a stale one raises Conflict."""
        ns = _namespace(res, obj, namespace)
        path = paths.path(res, namespace=ns, name=_name(obj), subresource=subresource)
        return await self._call("PUT", path, params=_optional(fieldManager=field_manager), body=obj)

    async def patch(
        self,
        res: Resource,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = PatchType.MERGE,
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool | None = None,
    ) -> JSON:
        path = paths.path(res, namespace=namespace, name=name, subresource=subresource)
        params = _optional(fieldManager=field_manager, force=force)
        return await self._call("PATCH", path, params=params, body=patch, content_type=patch_type.value)

    async def apply(
        self,
        res: Resource,
        obj: Mapping[str, Any],
        *,
        field_manager: str,
        force: bool = False,
        namespace: str | None = None,
        subresource: str | None = None,
    ) -> JSON:
        """Server-side apply: `obj` is this manager's whole intent; the object is created when absent.
        Fields another manager owns raise Conflict unless `force`."""
        ns = _namespace(res, obj, namespace)
        return await self.patch(
            res,
            _name(obj),
            obj,
            namespace=ns,
            patch_type=PatchType.APPLY,
            subresource=subresource,
            field_manager=field_manager,
            force=force,
        )

    async def delete(
        self,
        res: Resource,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        precondition_uid: str | None = None,
        precondition_resource_version: str | None = None,
    ) -> JSON:
        """Delete one object; returns the object (still present while finalizers or grace run) or a Status.
        `propagation_policy` is Background, Foreground or Orphan; preconditions make it conditional."""
        options: JSON = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy is not None:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        preconditions = {
            k: v
            for k, v in (("uid", precondition_uid), ("resourceVersion", precondition_resource_version))
            if v is not None
        }
        if preconditions:
            options["preconditions"] = preconditions
        return await self._call("DELETE", paths.path(res, namespace=namespace, name=name), body=options)
