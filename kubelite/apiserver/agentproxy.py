"""Relaying a stream to a node agent's HTTPS port: log bodies as they come, WebSocket sessions message for
message (exec channels and port-forward's SPDY bytes alike are opaque here).

The API server authenticates with its kubelet-client certificate and does not verify the agent's
self-signed serving certificate (upstream's default). A node nothing answers on fails fast with a Status.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import aiohttp
import orjson
from aiohttp import WSMsgType, web
from multidict import MultiDict

from kubelite.apiserver import errors

CONNECT_TIMEOUT = 3.0
_CLIENT_CHECK = 0.5  # seconds between checks that a log follower is still connected
_ADDRESS_ORDER = ("InternalIP", "Hostname", "InternalDNS", "ExternalIP", "ExternalDNS")


def agent_base(node: dict[str, Any]) -> str:
    """https://<address>:<port> of the node's agent, from its status."""
    status = node.get("status") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or [] if a.get("address")}
    address = next((addresses[t] for t in _ADDRESS_ORDER if t in addresses), None)
    if address is None:
        known = [f"{t}:{a}" for t, a in addresses.items()]
        raise errors.internal(f"no preferred addresses found; known addresses: [{' '.join(known)}]")
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 10250
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}:{port}"


def _session(context: ssl.SSLContext | None) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context if context is not None else False),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT),
        auto_decompress=False,
    )


def _dial_error(url: str, exc: BaseException) -> errors.ApiError:
    return errors.internal(f"error dialing backend: {url}: {exc or type(exc).__name__}")


async def _relay_error(response: aiohttp.ClientResponse) -> errors.ApiError:
    """The agent's own Status when it sent one, else its text wrapped in one."""
    body = await response.read()
    try:
        status = orjson.loads(body)
        if isinstance(status, dict) and status.get("kind") == "Status":
            return errors.ApiError(
                int(status.get("code") or response.status),
                str(status.get("reason") or ""),
                str(status.get("message") or ""),
            )
    except orjson.JSONDecodeError:
        pass
    return errors.ApiError(response.status, "InternalError", body.decode(errors="replace").strip())


async def stream_body(
    request: web.Request, context: ssl.SSLContext | None, url: str, query: MultiDict[str]
) -> web.StreamResponse:
    """GET url and copy its body to the client while it comes; a client going away ends the upstream."""
    async with _session(context) as session:
        try:
            upstream = await session.get(url, params=query)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _dial_error(url, exc) from exc
        async with upstream:
            if upstream.status != 200:
                raise await _relay_error(upstream)
            response = web.StreamResponse(headers={"Content-Type": "text/plain"})
            await response.prepare(request)
            copy = asyncio.create_task(_copy_body(upstream, response))
            # A follow may stay silent for long: notice a client that left without waiting for a write.
            while not copy.done() and request.transport is not None and not request.transport.is_closing():
                await asyncio.wait([copy], timeout=_CLIENT_CHECK)
            copy.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, aiohttp.ClientPayloadError):
                await copy
            return response


async def _copy_body(upstream: aiohttp.ClientResponse, response: web.StreamResponse) -> None:
    async for chunk in upstream.content.iter_any():
        await response.write(chunk)
    await response.write_eof()


async def _pipe(source: Any, sink: Any) -> None:
    async for msg in source:
        if msg.type == WSMsgType.BINARY:
            await sink.send_bytes(msg.data)
        elif msg.type == WSMsgType.TEXT:
            await sink.send_str(msg.data)


async def relay_websocket(
    request: web.Request, context: ssl.SSLContext | None, url: str, query: MultiDict[str]
) -> web.StreamResponse:
    """Open the agent's WebSocket with the subprotocols the client offered, then accept the client's with
    the one the agent chose and copy messages both ways until either side closes."""
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
    client_ws = web.WebSocketResponse(protocols=offered, max_msg_size=0)
    async with _session(context) as session:
        if not client_ws.can_prepare(request).ok:
            # Not a WebSocket (kubectl's SPDY fallback): the agent refuses it too, after its own checks,
            # whose Status tells the user more.
            try:
                async with session.get(url, params=query) as plain:
                    raise await _relay_error(plain)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise _dial_error(url, exc) from exc
        try:
            agent_ws = await session.ws_connect(url, params=query, protocols=offered, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as exc:
            # The handshake error carries no body: ask again without upgrading for the agent's Status.
            try:
                async with session.get(url, params=query) as plain:
                    raise await _relay_error(plain) from exc
            except (aiohttp.ClientError, OSError) as again:
                raise _dial_error(url, again) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _dial_error(url, exc) from exc
        async with agent_ws:
            client_ws = web.WebSocketResponse(protocols=[agent_ws.protocol or ""], max_msg_size=0)
            await client_ws.prepare(request)
            tasks = [
                asyncio.create_task(_pipe(client_ws, agent_ws)),
                asyncio.create_task(_pipe(agent_ws, client_ws)),
            ]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await client_ws.close()
    return client_ws
