"""Subresources: the generic `status`, namespaces' `finalize`, and a registry for the ones other parts of
kubelite serve (pods/binding, pods/eviction, pods/log, pods/exec, deployments/scale,
serviceaccounts/token, ...).

`status` writes change only .status; the main resource's writes never do (registry.py). A handler registered
here receives the request after authentication and authorization, like every other request. Resources that
are actions rather than stored objects (`bindings`) register a handler for the whole resource.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from kubelite.apiserver import binding, errors, eviction, scale, streaming, tokenrequest
from kubelite.apiserver.chain import UserInfo
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.requestinfo import RequestInfo

if TYPE_CHECKING:
    from kubelite.apiserver.rest import RestHandler

SubresourceHandler = Callable[
    ["RestHandler", web.Request, RequestInfo, UserInfo, Registry], Awaitable[web.StreamResponse]
]

_HANDLERS: dict[tuple[str, str, str], SubresourceHandler] = {}
_RESOURCE_HANDLERS: dict[tuple[str, str], SubresourceHandler] = {}


def register(group: str, resource: str, subresource: str, handler: SubresourceHandler) -> None:
    """Serve `<resource>/<subresource>` of `group` with `handler` (the resource table must list it)."""
    _HANDLERS[(group, resource, subresource)] = handler


def register_resource(group: str, resource: str, handler: SubresourceHandler) -> None:
    """Serve every request to a resource that is an action, not stored objects, with `handler`."""
    _RESOURCE_HANDLERS[(group, resource)] = handler


def resource_handler(group: str, resource: str) -> SubresourceHandler | None:
    return _RESOURCE_HANDLERS.get((group, resource))


async def _status(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    if info.verb == "get":
        return await rest.get(request, info, user, registry)
    if info.verb == "update":
        return await rest.update(request, info, user, registry, subresource="status")
    if info.verb == "patch":
        return await rest.patch(request, info, user, registry, subresource="status")
    raise errors.method_not_allowed()


async def _finalize(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    if info.verb != "update":
        raise errors.method_not_allowed()
    return await rest.update(request, info, user, registry, subresource="finalize")


async def handle(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    res = registry.resource
    declared = res.subresource(info.subresource)
    if declared is None or not info.name:
        raise errors.path_not_found()
    handler = _HANDLERS.get((res.group, res.plural, info.subresource))
    if handler is None and info.subresource == "status":
        handler = _status
    if handler is None and info.subresource == "scale":
        handler = scale.handle
    if handler is None:
        raise errors.path_not_found()
    return await handler(rest, request, info, user, registry)


register("", "namespaces", "finalize", _finalize)
register("", "pods", "binding", binding.bind)
register_resource("", "bindings", binding.bind)
register("", "pods", "eviction", eviction.evict)
register("", "pods", "log", streaming.pod_log)
for _stream in ("exec", "attach", "portforward"):
    register("", "pods", _stream, streaming.pod_stream)
register("", "nodes", "proxy", streaming.node_proxy)
register("", "services", "proxy", streaming.service_proxy)
register("", "serviceaccounts", "token", tokenrequest.create_token)
