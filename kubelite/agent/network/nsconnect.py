"""Sockets made inside a pod's network namespace, for probes and port-forward.

A socket belongs to the network namespace it was created in, whatever thread later uses it. So one
short-lived thread enters the namespace (setns), creates the socket and exits; the socket is then connected
and served by the event loop like any other. The thread never returns to a pool: a pooled thread left in a
pod's namespace would silently create the next unrelated socket there.
"""

from __future__ import annotations

import asyncio
import ctypes
import ipaddress
import os
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def run_in_netns(netns_path: str, fn: Callable[[], T]) -> T:
    """fn() on a fresh thread inside the network namespace at netns_path (blocking; keep fn short)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def body() -> None:
        try:
            fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            outcome.append(fn())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=body, name="netns", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def socket_in_netns(
    netns_path: str, family: int = socket.AF_INET, type: int = socket.SOCK_STREAM
) -> socket.socket:
    """A new socket that lives in the network namespace at netns_path (blocking, ~0.2 ms)."""
    return run_in_netns(netns_path, lambda: socket.socket(family, type))


async def _address(host: str, port: int) -> tuple[int, tuple[str, int]]:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        # A name is resolved by the agent, as the kubelet resolves a probe's host.
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if not infos:
            raise OSError(f"cannot resolve {host!r}") from None
        family, _, _, _, address = infos[0]
        return family, (str(address[0]), port)
    return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET), (str(ip), port)


# A plain timeout argument: probes and port-forward each carry their own.
async def open_connection_in_netns(
    netns_path: str,
    host: str,
    port: int,
    timeout: float,  # noqa: ASYNC109
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to host:port made from inside the network namespace at netns_path.

    Raises OSError (ConnectionRefusedError, ...) or TimeoutError like asyncio.open_connection.
    """
    family, address = await _address(host, port)
    sock = await asyncio.to_thread(socket_in_netns, netns_path, family)
    try:
        sock.setblocking(False)
        async with asyncio.timeout(timeout):
            await asyncio.get_running_loop().sock_connect(sock, address)
            return await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise
