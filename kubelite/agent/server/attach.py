"""attach over a channel.k8s.io WebSocket, through the container monitor's attach socket.

conmon serves `<bundle>/attach` (SOCK_SEQPACKET): each message it sends is one byte naming the stream
(2 stdout, 3 stderr) and then the bytes; what we send goes to the container's stdin (when it was started
with one). Window sizes go to the `<bundle>/ctl` FIFO as `1 <height> <width>`. Leaving never stops the
container; the session ends when the container exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path

import orjson
from aiohttp import WSMsgType, web

from kubelite.agent.runtime import monitor
from kubelite.agent.server import channels
from kubelite.agent.server.exec import ExecOptions

_CONMON_STREAMS = {2: channels.STDOUT, 3: channels.STDERR}


async def _connect(bundle: Path) -> socket.socket:
    """The socket path is often longer than a sockaddr_un allows: reach it through a directory fd."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    sock.setblocking(False)
    fd = os.open(bundle, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        await asyncio.get_running_loop().sock_connect(sock, f"/proc/self/fd/{fd}/attach")
    except BaseException:
        sock.close()
        raise
    finally:
        os.close(fd)
    return sock


def _resize(bundle: Path, payload: bytes) -> None:
    try:
        size = orjson.loads(payload)
        height, width = int(size["Height"]), int(size["Width"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return  # a malformed resize is not worth ending the session
    monitor.control(bundle, monitor.RESIZE, height, width)


async def _output(ws: web.WebSocketResponse, sock: socket.socket, opts: ExecOptions) -> None:
    loop = asyncio.get_running_loop()
    wanted = {channels.STDOUT: opts.stdout, channels.STDERR: opts.stderr or opts.tty}
    while message := await loop.sock_recv(sock, 65536):
        channel = _CONMON_STREAMS.get(message[0])
        if channel is not None and wanted[channel] and not ws.closed:
            await ws.send_bytes(channels.frame(channels.STDOUT if opts.tty else channel, message[1:]))


async def _input(ws: web.WebSocketResponse, sock: socket.socket, bundle: Path, opts: ExecOptions) -> None:
    loop = asyncio.get_running_loop()
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            channel, payload = channels.split(msg.data.encode())
        elif msg.type == WSMsgType.BINARY:
            channel, payload = channels.split(msg.data)
        else:
            continue
        if channel == channels.STDIN and opts.stdin and payload:
            await loop.sock_sendall(sock, payload)
        elif channel == channels.RESIZE:
            _resize(bundle, payload)
        elif channel == channels.CLOSE and payload[:1] == bytes((channels.STDIN,)):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)


async def run_attach(ws: web.WebSocketResponse, bundle: Path, opts: ExecOptions) -> None:
    try:
        sock = await _connect(bundle)
    except OSError as exc:
        await ws.send_bytes(channels.frame(channels.ERROR, channels.failure(f"cannot attach: {exc}")))
        return
    output = asyncio.create_task(_output(ws, sock, opts))
    client = asyncio.create_task(_input(ws, sock, bundle, opts))
    try:
        await asyncio.wait([output, client], return_when=asyncio.FIRST_COMPLETED)
        if output.done() and not ws.closed:  # the container's stdio closed: it has exited
            await ws.send_bytes(channels.frame(channels.ERROR, channels.success()))
    finally:
        for task in (output, client):
            task.cancel()
        await asyncio.gather(output, client, return_exceptions=True)
        sock.close()
