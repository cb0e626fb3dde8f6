"""The actions probes and lifecycle hooks share: exec in a container, HTTP GET, TCP connect.

Connections are opened from inside the pod's network namespace (kubelite.agent.network.nsconnect), so the
agent need not share a network with its pods; hostNetwork pods (no netns) get a plain connection. Failures
are raised as ActionError carrying the text Go's net/http and net packages would print, since that text
ends up in upstream's event messages ("dial tcp 10.42.0.5:8080: connect: connection refused").
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from kubelite.agent.network.nsconnect import open_connection_in_netns
from kubelite.api.version import MAJOR, MINOR

JSON = dict[str, Any]
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Connect = Callable[[str | None, str, int, float], Awaitable[Streams]]

PROBE_USER_AGENT = f"kube-probe/{MAJOR}.{MINOR}"
HOOK_USER_AGENT = f"kube-lifecycle/{MAJOR}.{MINOR}"
MAX_BODY = 10 * 1024  # upstream keeps at most this much of a probe's response body or exec output
MAX_REDIRECTS = 10
PLAIN_HTTP_ANSWER = "http: server gave HTTP response to HTTPS client"


class ExecRuntime(Protocol):
    """The part of kubelite.agent.runtime.oci.OciRuntime that runs a command in a container."""

    async def exec_capture(self, container_id: str, argv: list[str], seconds: float, /) -> tuple[int, str]:
        """(exit code, stdout+stderr); raises TimeoutError when the command outlives `seconds`."""
        ...


class ActionError(Exception):
    """The action could not complete; the message is Go's spelling of the error."""


async def connect(netns_path: str | None, host: str, port: int, timeout: float) -> Streams:  # noqa: ASYNC109
    if netns_path is None:
        return await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    return await open_connection_in_netns(netns_path, host, port, timeout)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def dial_error(host: str, port: int, exc: BaseException) -> str:
    """Go's net.OpError text for a failed dial."""
    where = f"dial tcp {_hostport(host, port)}"
    if isinstance(exc, TimeoutError):
        return f"{where}: i/o timeout"
    if isinstance(exc, OSError) and exc.errno is not None:
        text = os.strerror(exc.errno)
        return f"{where}: connect: {text[:1].lower()}{text[1:]}"
    return f"{where}: {exc}"


async def dial(connect_to: Connect, netns_path: str | None, host: str, port: int, timeout: float) -> Streams:  # noqa: ASYNC109
    try:
        return await connect_to(netns_path, host, port, timeout)
    except (OSError, TimeoutError) as exc:
        raise ActionError(dial_error(host, port, exc)) from exc


def resolve_port(port: int | str, container: JSON | None) -> int:
    """A probe's or hook's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        number = int(port)
    else:
        named = [p for p in (container or {}).get("ports") or () if p.get("name") == port]
        if not named:
            raise ActionError(f"couldn't find port: {port} in {(container or {}).get('name', '')}")
        number = int(named[0]["containerPort"])
    if not 0 < number < 65536:
        raise ActionError(f"invalid port number: {number}")
    return number


async def run_exec(
    runtime: ExecRuntime,
    container_id: str,
    command: Sequence[str],
    timeout: float,  # noqa: ASYNC109
) -> tuple[int, str]:
    """Exit code and output of `command` in the container; ActionError when it timed out."""
    try:
        code, output = await runtime.exec_capture(container_id, list(command), timeout)
        return code, output[:MAX_BODY]  # upstream keeps at most this much of an exec's output too
    except TimeoutError as exc:
        raise ActionError(f"command {json.dumps(' '.join(command))} timed out") from exc


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: str
    redirected_elsewhere: bool  # a 3xx to another host, which is not followed


@dataclass(frozen=True)
class HttpGet:
    scheme: str  # "http" or "https"
    host: str
    port: int
    path: str
    headers: tuple[tuple[str, str], ...]

    @property
    def url(self) -> str:
        path = self.path if self.path.startswith("/") else f"/{self.path}"
        return f"{self.scheme}://{_hostport(self.host, self.port)}{path}"


def http_get_action(action: JSON, container: JSON | None, pod_ip: str) -> HttpGet:
    """The request an httpGet handler describes: host defaults to the pod IP, port may be a name."""
    return HttpGet(
        scheme=str(action.get("scheme") or "HTTP").lower(),
        host=action.get("host") or pod_ip,
        port=resolve_port(action.get("port", 0), container),
        path=action.get("path") or "/",
        headers=tuple((h["name"], h.get("value", "")) for h in action.get("httpHeaders") or ()),
    )


async def http_get(
    request: HttpGet,
    *,
    netns_path: str | None,
    timeout: float,  # noqa: ASYNC109
    user_agent: str,
    connect_to: Connect = connect,
) -> HttpResponse:
    """GET, following redirects that stay on the same host (as upstream's probe client does)."""
    url = request.url
    try:
        async with asyncio.timeout(timeout):
            for _ in range(MAX_REDIRECTS + 1):
                response, location = await _get_once(
                    request, url, netns_path, timeout, user_agent, connect_to
                )
                if location is None:
                    return response
                target = urljoin(url, location)
                if urlsplit(target).hostname != urlsplit(url).hostname:
                    return HttpResponse(response.status, response.body, redirected_elsewhere=True)
                url = target
    except TimeoutError as exc:
        raise ActionError(
            f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        ) from exc
    raise ActionError(f'Get "{url}": stopped after {MAX_REDIRECTS} redirects')


async def _get_once(
    request: HttpGet,
    url: str,
    netns_path: str | None,
    timeout: float,  # noqa: ASYNC109
    user_agent: str,
    connect_to: Connect,
) -> tuple[HttpResponse, str | None]:
    parts = urlsplit(url)
    host = parts.hostname or request.host
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        reader, writer = await dial(connect_to, netns_path, host, port, timeout)
    except ActionError as exc:
        raise ActionError(f'Get "{url}": {exc}') from exc
    try:
        if parts.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # upstream probes skip verification too
            await writer.start_tls(context)
        writer.write(_request_head(request, parts, user_agent))
        await writer.drain()
        return await _read_response(reader)
    except ssl.SSLError as exc:
        if exc.reason == "WRONG_VERSION_NUMBER":  # a plain HTTP answer, in Go's words
            raise ActionError(f'Get "{url}": {PLAIN_HTTP_ANSWER}') from exc
        raise ActionError(f'Get "{url}": {exc}') from exc
    except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
        raise ActionError(f'Get "{url}": {exc or type(exc).__name__}') from exc
    finally:
        writer.close()


def _request_head(request: HttpGet, parts: Any, user_agent: str) -> bytes:
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    given = {name.lower() for name, _ in request.headers}
    lines = [f"GET {target} HTTP/1.1"]
    if "host" not in given:
        lines.append(f"Host: {parts.netloc}")
    if "user-agent" not in given:
        lines.append(f"User-Agent: {user_agent}")
    if "accept" not in given:
        lines.append("Accept: */*")
    lines += [f"{name}: {value}" for name, value in request.headers]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_response(reader: asyncio.StreamReader) -> tuple[HttpResponse, str | None]:
    status_line = (await reader.readline()).decode("latin-1").strip()
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/") or not rest[:3].isdigit():
        raise ValueError(f"malformed HTTP response {status_line!r}")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    while line := (await reader.readline()).decode("latin-1").strip():
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() != "chunked":  # a chunked body is not worth decoding
        length = headers.get("content-length")
        limit = min(int(length), MAX_BODY) if length and length.isdigit() else MAX_BODY
        while len(body) < limit and (chunk := await reader.read(limit - len(body))):
            body += chunk
    location = headers.get("location") if 300 <= status < 400 else None
    return HttpResponse(status, body.decode("utf-8", "replace"), False), location
