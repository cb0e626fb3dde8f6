"""port-forward over a WebSocket, both ways clients speak it:

- `SPDY/3.1+portforward.k8s.io` (kubectl): a SPDY session tunnelled in binary messages. Per forwarded
  connection the client opens an `error` and a `data` stream sharing a `requestid`; the pod connection is made
  once both exist. Failures are written on the error stream, as upstream does.
- `v4.channel.k8s.io` (the Python client): for the i-th port of `?ports=`, data channel 2i and error channel
  2i+1, each announced with the port (2 bytes, little endian); one connection per port.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from kubelite.agent.server import channels, spdy

SPDY_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
PROTOCOLS = (SPDY_PROTOCOL, channels.V4)
_CHUNK = 32768

Connect = Callable[[int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


async def _copy_out(reader: asyncio.StreamReader, send: Callable[[bytes], Awaitable[None]]) -> None:
    while chunk := await reader.read(_CHUNK):
        await send(chunk)


@dataclass
class _Stream:
    headers: dict[str, str]
    inbox: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    reset: bool = False


class SpdySession:
    def __init__(self, ws: web.WebSocketResponse, connect: Connect, describe: str) -> None:
        self._ws, self._connect, self._describe = ws, connect, describe
        self._codec = spdy.Codec()
        self._lock = asyncio.Lock()  # frames leave in the order their headers were compressed
        self._streams: dict[int, _Stream] = {}
        self._pending: dict[str, dict[str, int]] = {}  # requestid -> streamtype -> stream id
        self._tasks: set[asyncio.Task[None]] = set()

    async def _send(self, build: Callable[[], bytes]) -> None:
        async with self._lock:
            if not self._ws.closed:
                await self._ws.send_bytes(build())

    async def run(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type != WSMsgType.BINARY:
                    continue
                for frame in self._codec.feed(msg.data):
                    if not await self._handle(frame):
                        return
        except spdy.ProtocolError:
            await self._send(lambda: spdy.goaway(0, spdy.PROTOCOL_ERROR))
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, frame: spdy.Frame) -> bool:
        if frame.kind == 0:
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                if frame.data:
                    stream.inbox.put_nowait(frame.data)
                if frame.fin:
                    stream.inbox.put_nowait(None)
        elif frame.kind == spdy.SYN_STREAM:
            await self._open(frame)
        elif frame.kind == spdy.RST_STREAM:
            stream = self._streams.pop(frame.stream_id, None)
            if stream is not None:
                stream.reset = True
                stream.inbox.put_nowait(None)
        elif frame.kind == spdy.PING:
            await self._send(lambda: spdy.control(spdy.PING, frame.data))
        elif frame.kind == spdy.GOAWAY:
            return False
        return True  # SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do (no flow control, as spdystream)

    async def _open(self, frame: spdy.Frame) -> None:
        sid, headers = frame.stream_id, frame.headers
        self._streams[sid] = _Stream(headers)
        await self._send(lambda: self._codec.syn_reply(sid, {}))
        kind, request = headers.get("streamtype", ""), headers.get("requestid", str(sid))
        if kind not in ("error", "data"):
            await self._send(lambda: spdy.rst_stream(sid, spdy.PROTOCOL_ERROR))
            return
        pair = self._pending.setdefault(request, {})
        pair[kind] = sid
        if len(pair) == 2:
            del self._pending[request]
            task = asyncio.create_task(self._forward(headers.get("port", ""), pair["error"], pair["data"]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _forward(self, port_text: str, error_id: int, data_id: int) -> None:
        try:
            try:
                port = int(port_text)
                conn = await self._connect(port)
            except (ValueError, OSError, TimeoutError) as exc:
                why = f"error forwarding port {port_text} to pod {self._describe}: {exc}"
                await self._send(lambda: spdy.data(error_id, why.encode(), fin=True))
                await self._send(lambda: spdy.data(data_id, b"", fin=True))
                return
            reader, writer = conn
            stream = self._streams[data_id]
            outbound = asyncio.create_task(
                _copy_out(reader, lambda b: self._send(lambda: spdy.data(data_id, b)))
            )
            try:
                while (chunk := await stream.inbox.get()) is not None:
                    writer.write(chunk)
                    await writer.drain()
                if stream.reset:  # the client gave up on this connection: no need to drain the pod side
                    return
                if writer.can_write_eof():
                    writer.write_eof()
                await outbound
                await self._send(lambda: spdy.data(data_id, b"", fin=True))
                await self._send(lambda: spdy.data(error_id, b"", fin=True))
            finally:
                outbound.cancel()
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        finally:
            self._streams.pop(data_id, None)
            self._streams.pop(error_id, None)


async def serve_channels(
    ws: web.WebSocketResponse, ports: list[int], connect: Connect, describe: str
) -> None:
    """The channel protocol: announce every port's channels, connect each, relay until all are done."""
    for i, port in enumerate(ports):
        prefix = struct.pack("<H", port)
        await ws.send_bytes(channels.frame(2 * i, prefix))
        await ws.send_bytes(channels.frame(2 * i + 1, prefix))
    inboxes: list[asyncio.Queue[bytes]] = [asyncio.Queue() for _ in ports]

    async def one(i: int, port: int) -> None:
        try:
            reader, writer = await connect(port)
        except (OSError, TimeoutError) as exc:
            why = f"error forwarding port {port} to pod {describe}: {exc}"
            await ws.send_bytes(channels.frame(2 * i + 1, why.encode()))
            return

        async def inbound() -> None:
            while True:
                writer.write(await inboxes[i].get())
                await writer.drain()

        sending = asyncio.create_task(inbound())
        try:
            await _copy_out(reader, lambda b: ws.send_bytes(channels.frame(2 * i, b)))
        finally:
            sending.cancel()
            writer.close()

    async def client() -> None:
        async for msg in ws:
            if msg.type != WSMsgType.BINARY:
                continue
            channel, payload = channels.split(msg.data)
            if channel >= 0 and channel % 2 == 0 and channel // 2 < len(ports) and payload:
                inboxes[channel // 2].put_nowait(payload)

    reading = asyncio.create_task(client())
    try:
        await asyncio.gather(*(one(i, port) for i, port in enumerate(ports)), return_exceptions=True)
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
