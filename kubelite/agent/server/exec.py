"""exec over a channel.k8s.io WebSocket: run a host command line (the runtime's `exec_command`) and wire its
stdio to channels 0-2, its exit to a Status on channel 3. With a tty the process gets a pty we allocate
(its stdin, stdout and stderr; resize messages on channel 4 go to the pty's window size)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import struct
import termios
from dataclasses import dataclass

import orjson
from aiohttp import WSMsgType, web

from kubelite.agent.server import channels

_READ = 65536


@dataclass(frozen=True)
class ExecOptions:
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


async def _send(ws: web.WebSocketResponse, channel: int, payload: bytes) -> None:
    if not ws.closed:
        await ws.send_bytes(channels.frame(channel, payload))


async def _pump(ws: web.WebSocketResponse, channel: int, reader: asyncio.StreamReader) -> None:
    while chunk := await reader.read(_READ):
        await _send(ws, channel, chunk)


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, _READ)
    except OSError:  # EIO once every holder of the other side has closed it
        return b""


async def _pump_pty(ws: web.WebSocketResponse, fd: int) -> None:
    while chunk := await asyncio.to_thread(_read_pty, fd):
        await _send(ws, channels.STDOUT, chunk)


def _resize(fd: int, payload: bytes) -> None:
    try:
        size = orjson.loads(payload)
        fcntl.ioctl(
            fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(size["Height"]), int(size["Width"]), 0, 0)
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, OSError):
        pass  # a malformed resize is not worth ending the session


def _become_tty_leader() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


async def _spawn(cmd: list[str], opts: ExecOptions) -> tuple[asyncio.subprocess.Process, int | None]:
    if opts.tty:
        master, slave = pty.openpty()
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd, stdin=slave, stdout=slave, stderr=slave, preexec_fn=_become_tty_leader
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        return proc, master
    pipe, null = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=pipe if opts.stdin else null,
        stdout=pipe if opts.stdout else null,
        stderr=pipe if opts.stderr else null,
        start_new_session=True,
    )
    return proc, None


async def _client_input(
    ws: web.WebSocketResponse, proc: asyncio.subprocess.Process, master: int | None
) -> None:
    """Client messages until the socket closes: stdin data, stdin half-close (v5), resizes."""
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:  # the Python client sends str stdin as text frames
            channel, payload = channels.split(msg.data.encode())
        elif msg.type == WSMsgType.BINARY:
            channel, payload = channels.split(msg.data)
        else:
            continue
        if channel == channels.STDIN:
            if master is not None:
                await asyncio.to_thread(os.write, master, payload)
            elif proc.stdin is not None and not proc.stdin.is_closing():
                proc.stdin.write(payload)
                with contextlib.suppress(ConnectionError):
                    await proc.stdin.drain()
        elif channel == channels.RESIZE and master is not None:
            _resize(master, payload)
        elif channel == channels.CLOSE and payload[:1] == bytes((channels.STDIN,)):
            if master is not None:
                await asyncio.to_thread(os.write, master, b"\x04")  # EOF for a tty in canonical mode
            elif proc.stdin is not None:
                proc.stdin.close()


async def run_exec(ws: web.WebSocketResponse, cmd: list[str], opts: ExecOptions) -> None:
    """Run until the process exits (then report its status) or the client goes away (then kill it)."""
    try:
        proc, master = await _spawn(cmd, opts)
    except OSError as exc:
        await _send(ws, channels.ERROR, channels.failure(f"cannot run the command: {exc}"))
        return
    if master is not None:
        pumps = [asyncio.create_task(_pump_pty(ws, master))]
    else:
        streams = ((channels.STDOUT, proc.stdout), (channels.STDERR, proc.stderr))
        pumps = [asyncio.create_task(_pump(ws, ch, r)) for ch, r in streams if r is not None]
    reader = asyncio.create_task(_client_input(ws, proc, master))
    waiter = asyncio.create_task(proc.wait())
    try:
        await asyncio.wait([reader, waiter], return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():  # the client left first
            proc.kill()
            await waiter
            return
        # Output still in flight; a background child keeping the pipes open must not hold the session.
        await asyncio.wait(pumps, timeout=2)
        await _send(ws, channels.ERROR, channels.exit_status(waiter.result()))
    finally:
        for task in (reader, *pumps):
            task.cancel()
        await asyncio.gather(reader, *pumps, return_exceptions=True)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if master is not None:
            os.close(master)
