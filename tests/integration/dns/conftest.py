"""Cluster DNS against the real API server: informers fill the caches, queries go over 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import cast

import dns.message
import dns.rrset
import pytest

from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.dns.server import DnsServer
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.apiserver.conftest import apiserver as apiserver


@dataclass
class RunningDns:
    server: DnsServer
    port: int
    client: RestClient


@contextlib.asynccontextmanager
async def running_dns(
    apiserver: RunningServer, *, upstreams: Sequence[tuple[str, int]] = (), forward_timeout: float = 0.3
) -> AsyncIterator[RunningDns]:
    async with RestClient.from_kubeconfig(apiserver.kubeconfig, user_agent="kubelite-dns-tests") as client:
        informers = InformerFactory(client)
        server = DnsServer(
            informers, cluster_domain="cluster.local", upstreams=upstreams, forward_timeout=forward_timeout
        )
        task = asyncio.create_task(informers.run())
        try:
            port = await server.listen("127.0.0.1", 0)
            try:
                assert await informers.wait_for_sync(10)
                yield RunningDns(server, port, client)
            finally:
                await server.close()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    # aiohttp's documented advice: let closed TLS connections finish their shutdown before the loop ends,
    # or their sockets are collected unclosed (a ResourceWarning, an error under filterwarnings=error).
    await asyncio.sleep(0.25)


@pytest.fixture
async def cluster_dns(apiserver: RunningServer) -> AsyncIterator[RunningDns]:
    async with running_dns(apiserver) as running:
        yield running


class FakeUpstream(asyncio.DatagramProtocol):
    """A resolver on 127.0.0.1 that answers every A question with one address (or stays silent)."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.questions: list[str] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        self.questions.append(query.question[0].name.to_text())
        if self.answer is None or self.transport is None:
            return
        response = dns.message.make_response(query)
        response.answer.append(dns.rrset.from_text(query.question[0].name, 30, "IN", "A", self.answer))
        self.transport.sendto(response.to_wire(), addr)


@contextlib.asynccontextmanager
async def fake_upstream(answer: str | None) -> AsyncIterator[tuple[FakeUpstream, int]]:
    """A FakeUpstream on a free 127.0.0.1 port: (the protocol, its port)."""
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: FakeUpstream(answer), local_addr=("127.0.0.1", 0)
    )
    try:
        yield protocol, transport.get_extra_info("sockname")[1]
    finally:
        transport.close()
