"""The streaming subresources a node agent serves: pods/log, exec, attach, portforward, nodes/proxy and
services/proxy.

The API server checks what it can itself, as upstream does (the pod exists, the container is one of its
own, the pod is on a node), then would hand the stream to the node agent. No node agent serves streams
yet, so those requests end at once with a 503 ServiceUnavailable that says so, never a hang. Logs of a pod
no node runs are empty, as upstream answers them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubelite.apiserver import errors
from kubelite.apiserver.chain import UserInfo
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.requestinfo import RequestInfo

if TYPE_CHECKING:
    from kubelite.apiserver.rest import RestHandler


def _names(containers: Any) -> list[str]:
    return [c.get("name", "") for c in containers or [] if isinstance(c, dict)]


def _container(pod: dict[str, Any], requested: str) -> str:
    """The container a request means: the one named, or the pod's only one (upstream's words otherwise)."""
    spec, name = pod.get("spec") or {}, pod["metadata"]["name"]
    containers, init = _names(spec.get("containers")), _names(spec.get("initContainers"))
    if requested:
        if requested not in containers + init + _names(spec.get("ephemeralContainers")):
            raise errors.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    if len(containers) == 1:
        return containers[0]
    if not containers:
        raise errors.bad_request(f"a container name must be specified for pod {name}")
    why = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
    if init:
        why += f" or one of the init containers: [{' '.join(init)}]"
    raise errors.bad_request(why)


async def _node_of(rest: RestHandler, pod: dict[str, Any]) -> str:
    """The pod's node, which must exist."""
    node = (pod.get("spec") or {}).get("nodeName") or ""
    nodes = rest.ctx.registry("", "v1", "nodes")
    if node and nodes is not None:
        await nodes.get("", node)  # 404 `nodes "x" not found`, as upstream's connection lookup answers
    return node


def _proxied_name(text: str) -> str:
    """The object named by a proxy path's `[scheme:]name[:port]`."""
    parts = text.split(":")
    return parts[1] if len(parts) == 3 else parts[0]


def _no_agent(what: str) -> errors.ApiError:
    return errors.service_unavailable(f"no node agent is serving {what}")


async def pod_log(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    if info.verb != "get":
        raise errors.method_not_allowed()
    pod, _ = await registry.get(info.namespace, info.name)
    _container(pod, request.query.get("container", ""))
    node = await _node_of(rest, pod)
    if not node:
        return web.Response(body=b"", content_type="text/plain")
    raise _no_agent(f"pod {info.name} on node {node}: its logs are not available")


async def pod_stream(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    """exec, attach (GET for WebSocket, POST for SPDY) and portforward."""
    if info.verb not in ("get", "create"):
        raise errors.method_not_allowed()
    pod, _ = await registry.get(info.namespace, info.name)
    if info.subresource != "portforward":
        _container(pod, request.query.get("container", ""))
    node = await _node_of(rest, pod)
    if not node:
        raise errors.bad_request(f"pod {info.name} does not have a host assigned")
    raise _no_agent(f"pod {info.name} on node {node}")


async def node_proxy(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    name = _proxied_name(info.name)
    await registry.get("", name)
    raise _no_agent(f"node {name}")


async def service_proxy(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    name = _proxied_name(info.name)
    await registry.get(info.namespace, name)
    raise _no_agent(f"service {name}: nothing proxies to its endpoints yet")
