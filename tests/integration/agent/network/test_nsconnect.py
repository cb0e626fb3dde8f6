"""Sockets made inside another network namespace by a thread that enters it and exits."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator

import pytest

from kubelite.agent.network.nsconnect import open_connection_in_netns, run_in_netns, socket_in_netns
from tests.support.netns import NetNamespace


@pytest.fixture
def pod_netns() -> Iterator[NetNamespace]:
    with NetNamespace("klpod") as ns:
        yield ns


def own_netns() -> str:
    return os.readlink("/proc/thread-self/ns/net")


async def echo_server(netns: str, host: str) -> tuple[asyncio.Server, int]:
    """A line echo server listening on host inside the namespace."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket_in_netns(netns, family)
    sock.bind((host, 0))

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"echo " + await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, sock=sock)
    return server, sock.getsockname()[1]


async def test_connects_to_a_loopback_listener_inside_the_namespace(pod_netns: NetNamespace) -> None:
    server, port = await echo_server(pod_netns.path, "127.0.0.1")
    try:
        before = own_netns()
        for _ in range(3):  # several in a row, and the loop's threads stay where they were
            reader, writer = await open_connection_in_netns(pod_netns.path, "127.0.0.1", port, timeout=5)
            writer.write(b"ping\n")
            assert await reader.readline() == b"echo ping\n"
            writer.close()
            await writer.wait_closed()
        assert own_netns() == before
        pool = await asyncio.gather(*(asyncio.to_thread(own_netns) for _ in range(8)))
        assert set(pool) == {before}
        assert run_in_netns(pod_netns.path, own_netns) != before

        # The listener is only in the pod's namespace: from another one the port is closed.
        with NetNamespace("klother") as other, pytest.raises(ConnectionRefusedError):
            await open_connection_in_netns(other.path, "127.0.0.1", port, timeout=5)
    finally:
        server.close()
        await server.wait_closed()


async def test_ipv6_loopback(pod_netns: NetNamespace) -> None:
    server, port = await echo_server(pod_netns.path, "::1")
    try:
        for host in ("::1", "[::1]"):
            reader, writer = await open_connection_in_netns(pod_netns.path, host, port, timeout=5)
            writer.write(b"six\n")
            assert await reader.readline() == b"echo six\n"
            writer.close()
            await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()


async def test_errors_reach_the_caller(pod_netns: NetNamespace) -> None:
    # Only loopback in this namespace: any other address is unreachable at once.
    with pytest.raises(OSError):
        await open_connection_in_netns(pod_netns.path, "10.1.2.3", 80, timeout=5)
    with pytest.raises(FileNotFoundError):
        await open_connection_in_netns("/run/netns/kl-does-not-exist", "127.0.0.1", 80, timeout=5)
    with pytest.raises(ZeroDivisionError):
        run_in_netns(pod_netns.path, lambda: 1 // 0)


async def test_timeout(pod_netns: NetNamespace) -> None:
    # A listener whose backlog is full and never accepts: the next SYN goes unanswered.
    listener = socket_in_netns(pod_netns.path)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    held = []
    try:
        with pytest.raises(TimeoutError):
            for _ in range(4):
                held.append(await open_connection_in_netns(pod_netns.path, "127.0.0.1", port, timeout=0.3))
    finally:
        for _, writer in held:
            writer.close()
        listener.close()
