"""The aiohttp application: one middleware for the request chain, metrics and error bodies, and the
non-resource endpoints (/version, health, /metrics, discovery, OpenAPI).

Every request is authenticated and authorized except the few public endpoints; every failure leaves as a
metav1.Status body, including unexpected ones (500, logged), so no client ever sees a bare traceback.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kubelite.api.version import GIT_VERSION, MAJOR, MINOR
from kubelite.apiserver import apiwarnings, bodies, errors, openapi, requestinfo
from kubelite.apiserver.chain import Attributes, UserInfo
from kubelite.apiserver.context import ServerContext
from kubelite.apiserver.discovery import AGGREGATED_CONTENT_TYPE, wants_aggregated
from kubelite.apiserver.metrics import metric_verb
from kubelite.apiserver.rest import RestHandler

log = logging.getLogger(__name__)

PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")
CTX_KEY: web.AppKey[ServerContext] = web.AppKey("ctx", ServerContext)
USER_KEY: web.RequestKey[UserInfo] = web.RequestKey("user", UserInfo)
INFO_KEY: web.RequestKey[requestinfo.RequestInfo | None] = web.RequestKey("info", requestinfo.RequestInfo)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _is_public(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PUBLIC_PATHS)


def _metric_labels(request: web.Request, info: requestinfo.RequestInfo | None) -> tuple[str, str]:
    if info is None:
        return request.method.upper(), ""
    resource = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
    return metric_verb(info.verb), resource


@web.middleware
async def chain_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = request.app[CTX_KEY]
    started = time.monotonic()
    info = request[INFO_KEY] = requestinfo.parse(request.method, request.path, request.query)
    verb, resource = _metric_labels(request, info)
    warnings = apiwarnings.begin()
    try:
        if not _is_public(request.path):
            user = await ctx.chain.authenticate(request)
            await ctx.chain.authorize(Attributes(user, request.method, request.path, info))
            request[USER_KEY] = user
        response = await handler(request)
    except errors.ApiError as exc:
        response = bodies.status_response(exc)
    except web.HTTPException as exc:
        response = bodies.status_response(_from_http(exc))
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path)
        response = bodies.status_response(errors.internal(f"{type(exc).__name__}: {exc}"))
    for text in apiwarnings.end(warnings):
        if not response.prepared:
            response.headers.add("Warning", apiwarnings.header_value(text))
    ctx.metrics.observe(
        verb=verb, resource=resource, code=response.status, seconds=time.monotonic() - started
    )
    return response


def _from_http(exc: web.HTTPException) -> errors.ApiError:
    if exc.status == 404:
        return errors.path_not_found()
    if exc.status == 405:
        return errors.method_not_allowed()
    if exc.status == 413:
        return errors.too_large(bodies.MAX_BODY_BYTES)
    return errors.ApiError(exc.status, exc.reason.replace(" ", ""), exc.text or exc.reason)


def _version_body() -> dict[str, Any]:
    return {
        "major": str(MAJOR),
        "minor": str(MINOR),
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"{platform.system().lower()}/{_arch()}",
    }


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


async def version(request: web.Request) -> web.StreamResponse:
    return bodies.json_response(_version_body())


async def health(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX_KEY]
    checks = ["ping", "etcd"]
    try:
        await ctx.store.current_revision()
        healthy = True
    except Exception:
        healthy = False
    if "verbose" in request.query:
        lines = [f"[+]{c} ok" for c in checks[:1]] + [
            f"[{'+' if healthy else '-'}]etcd {'ok' if healthy else 'failed'}"
        ]
        lines.append(f"{request.path.strip('/')} check {'passed' if healthy else 'failed'}")
        return web.Response(text="\n".join(lines) + "\n", status=200 if healthy else 500)
    return web.Response(text="ok" if healthy else "etcd failed", status=200 if healthy else 500)


async def metrics(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX_KEY]
    return web.Response(body=ctx.metrics.render(), headers={"Content-Type": ctx.metrics.content_type})


def _discovery_response(request: web.Request, *, legacy: bool, fallback: dict[str, Any]) -> web.Response:
    ctx = request.app[CTX_KEY]
    if wants_aggregated(request.headers.get("Accept", "")):
        body = ctx.discovery.aggregated(legacy=legacy)
        return bodies.json_response(body, content_type=AGGREGATED_CONTENT_TYPE)
    return bodies.json_response(fallback)


async def api_root(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX_KEY]
    return _discovery_response(request, legacy=True, fallback=ctx.discovery.api_versions(ctx.server_address))


async def apis_root(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX_KEY]
    return _discovery_response(request, legacy=False, fallback=ctx.discovery.api_group_list())


async def resources(request: web.Request) -> web.StreamResponse:
    """Everything under /api/<v> and /apis/<g>[/<v>]: discovery documents or resource requests."""
    ctx = request.app[CTX_KEY]
    parts = [p for p in request.path.split("/") if p]
    if parts[0] == "api" and len(parts) == 2 and request.method == "GET":
        if not ctx.discovery.has_group_version("", parts[1]):
            raise errors.path_not_found()
        return bodies.json_response(ctx.discovery.resource_list("", parts[1]))
    if parts[0] == "apis" and len(parts) in (2, 3) and request.method == "GET":
        group = parts[1]
        if group not in ctx.discovery.groups or (
            len(parts) == 3 and not ctx.discovery.has_group_version(group, parts[2])
        ):
            raise errors.path_not_found()
        if len(parts) == 2:
            return bodies.json_response(ctx.discovery.api_group(group))
        return bodies.json_response(ctx.discovery.resource_list(group, parts[2]))
    info = request[INFO_KEY]
    if info is None:
        raise errors.path_not_found()
    user: UserInfo = request[USER_KEY]
    return await RestHandler(ctx).handle(request, info, user)


async def not_found(request: web.Request) -> web.StreamResponse:
    raise errors.path_not_found()


def build_app(ctx: ServerContext) -> web.Application:
    # Bodies are read (and size-checked) by bodies.read_raw; aiohttp's own cap must sit above ours.
    app = web.Application(middlewares=[chain_middleware], client_max_size=bodies.MAX_BODY_BYTES + 1024 * 1024)
    app[CTX_KEY] = ctx
    app.router.add_get("/version", version)
    app.router.add_get("/version/", version)  # the Python client asks with the slash
    for path in ("/healthz", "/livez", "/readyz"):
        app.router.add_get(path, health)
        app.router.add_get(path + "/{check:.*}", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api", api_root)
    app.router.add_get("/apis", apis_root)
    app.router.add_routes(openapi.ROUTES)
    app.router.add_route("*", "/api/{tail:.+}", resources)
    app.router.add_route("*", "/apis/{tail:.+}", resources)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
