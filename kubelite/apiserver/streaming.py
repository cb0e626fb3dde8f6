"""The streaming subresources a node agent serves: pods/log, exec, attach, portforward, nodes/proxy and
services/proxy.

The API server checks what it can itself, as upstream does (the pod exists, the container is one of its
own, the pod is on a node and in a phase the stream makes sense for), then relays the stream to the node's
agent (kubelite.apiserver.agentproxy). Logs of a pod no node runs are empty, as upstream answers them.
nodes/proxy and services/proxy are not relayed yet: they end at once with a 503 that says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import MultiDict

from kubelite.apiserver import agentproxy, errors
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


async def _node_of(rest: RestHandler, pod: dict[str, Any]) -> dict[str, Any] | None:
    """The pod's node, which must exist; None for a pod not bound yet."""
    name = (pod.get("spec") or {}).get("nodeName") or ""
    nodes = rest.ctx.registry("", "v1", "nodes")
    if not name or nodes is None:
        return None
    node, _ = await nodes.get("", name)  # 404 `nodes "x" not found`, as upstream's connection lookup answers
    return node


def _forwarded(request: web.Request, drop: tuple[str, ...]) -> MultiDict[str]:
    return MultiDict((k, v) for k, v in request.query.items() if k not in drop)


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
    container = _container(pod, request.query.get("container", ""))
    node = await _node_of(rest, pod)
    if node is None:
        return web.Response(body=b"", content_type="text/plain")
    url = f"{agentproxy.agent_base(node)}/containerLogs/{info.namespace}/{info.name}/{container}"
    query = _forwarded(request, ("container", "insecureSkipTLSVerifyBackend"))
    return await agentproxy.stream_body(request, rest.ctx.kubelet_client, url, query)


def _check_phase(pod: dict[str, Any], subresource: str) -> None:
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    if subresource == "portforward" and phase != "Running":
        raise errors.bad_request(f"pod is not running - current status {phase}")
    if subresource in ("exec", "attach") and phase in ("Succeeded", "Failed"):
        verb = "exec into" if subresource == "exec" else "attach to"
        raise errors.bad_request(f"cannot {verb} a container in a completed pod; current phase is {phase}")


async def pod_stream(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    """exec, attach and portforward, relayed over WebSocket to the pod's node agent."""
    if info.verb not in ("get", "create"):
        raise errors.method_not_allowed()
    pod, _ = await registry.get(info.namespace, info.name)
    container = ""
    if info.subresource != "portforward":
        container = _container(pod, request.query.get("container", ""))
    node = await _node_of(rest, pod)
    if node is None:
        raise errors.bad_request(f"pod {info.name} does not have a host assigned")
    _check_phase(pod, info.subresource)
    base, where = agentproxy.agent_base(node), f"{info.namespace}/{info.name}"
    if info.subresource == "portforward":
        url = f"{base}/portForward/{where}"
    else:
        url = f"{base}/{info.subresource}/{where}/{container}"
    query = _forwarded(request, ("container",))
    return await agentproxy.relay_websocket(request, rest.ctx.kubelet_client, url, query)


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
