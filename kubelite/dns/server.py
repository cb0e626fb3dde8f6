"""The cluster DNS server: UDP and TCP on one address, answers from informer caches, the rest forwarded.

Cluster names are answered at once, inside the datagram callback, from `ClusterRecords` (no API call, no
await); the rendered response is kept until something changes in its namespace (kubelite.dns.cache). Only
forwarding (names outside the cluster, ExternalName targets outside it) runs as a task. Until the informers
have listed, cluster names get SERVFAIL so resolvers retry rather than cache a false NXDOMAIN.
Forwarding goes to the configured upstreams in order, over UDP (over TCP when the client asked over TCP and
the upstream truncated), each with a timeout; with none configured, or none answering, the answer is SERVFAIL.
UDP answers larger than 512 bytes (or the client's EDNS payload size) are truncated with TC set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Sequence
from typing import cast

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rrset

from kubelite.client import paths
from kubelite.client.cache import Snapshot
from kubelite.client.informer import Informer, InformerFactory
from kubelite.dns.cache import ResponseCache
from kubelite.dns.records import (
    CLUSTER_IP_INDEX,
    DEFAULT_TTL,
    SLICE_ADDRESS_INDEX,
    SLICE_SERVICE_INDEX,
    Answer,
    ClusterRecords,
    by_cluster_ip,
    by_endpoint_address,
    by_owning_service,
)

log = logging.getLogger(__name__)

SERVICES = paths.resource("", "v1", "services")
ENDPOINT_SLICES = paths.resource("discovery.k8s.io", "v1", "endpointslices")
NAMESPACES = paths.resource("", "v1", "namespaces")

UDP_DEFAULT_SIZE = 512
OUR_PAYLOAD = 1232  # the EDNS buffer size DNS Flag Day 2020 settled on
TCP_IDLE = 10.0  # seconds a TCP client may stay silent between queries

Upstream = tuple[str, int]


class DnsServer:
    """Serve `cluster_domain` from the informers' caches. The caller runs the informer factory."""

    def __init__(
        self,
        informers: InformerFactory,
        *,
        cluster_domain: str,
        upstreams: Sequence[Upstream] = (),
        ttl: int = DEFAULT_TTL,
        forward_timeout: float = 2.0,
        cache_size: int = 10_000,
    ) -> None:
        services = informers.informer(SERVICES)
        slices = informers.informer(ENDPOINT_SLICES)
        namespaces = informers.informer(NAMESPACES)
        services.add_indexers({CLUSTER_IP_INDEX: by_cluster_ip})
        slices.add_indexers(
            {SLICE_SERVICE_INDEX: by_owning_service, SLICE_ADDRESS_INDEX: by_endpoint_address}
        )
        self._informers: tuple[Informer, ...] = (services, slices, namespaces)
        for informer in self._informers:
            informer.add_handlers(on_add=self._forget, on_update=self._forget, on_delete=self._forget)
        self.records = ClusterRecords(
            cluster_domain,
            services=services.cache,
            slices=slices.cache,
            namespaces=namespaces.cache,
            ttl=ttl,
            serial=int(time.time()),
        )
        self.upstreams = tuple(upstreams)
        self.forward_timeout = forward_timeout
        self.responses = ResponseCache(cache_size)  # size 0: no response cache
        self._tasks: set[asyncio.Task[None]] = set()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_clients: set[asyncio.StreamWriter] = set()

    # Serving

    async def start(self, *, udp: socket.socket, tcp: socket.socket) -> None:
        """Serve on bound sockets (made wherever the caller likes, e.g. inside the node's netns)."""
        loop = asyncio.get_running_loop()
        udp.setblocking(False)
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), sock=udp)
        self._tcp = await asyncio.start_server(self._serve_tcp, sock=tcp)

    async def listen(self, host: str = "127.0.0.1", port: int = 53) -> int:
        """Bind UDP and TCP on host:port (port 0: a free port, the same for both) and serve; the port."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for _ in range(20):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                udp.bind((host, port))
                tcp.bind((host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                if port:
                    raise
                continue  # the free UDP port was taken for TCP: try another
            await self.start(udp=udp, tcp=tcp)
            return int(udp.getsockname()[1])
        raise OSError(f"no port free for both UDP and TCP on {host}")

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            for writer in list(self._tcp_clients):
                writer.close()
            await self._tcp.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run(self, *, udp: socket.socket, tcp: socket.socket) -> None:
        """Serve on the sockets until cancelled."""
        await self.start(udp=udp, tcp=tcp)
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            await self.close()

    def _forget(self, *changed: Snapshot) -> None:
        meta = changed[-1].get("metadata") or {}
        # A Namespace is cluster-scoped: its own name is the namespace that changed.
        self.responses.forget(meta.get("namespace") or meta.get("name"))

    def synced(self) -> bool:
        return all(i.has_synced() for i in self._informers)

    # Queries

    def answer_now(self, query: dns.message.Message) -> tuple[dns.message.Message, str | None] | None:
        """The response if it needs no forwarding, with the namespace it depends on (None: any); else None
        (then `answer_later`)."""
        response = self._response(query)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response, None
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response, None
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response, None
        answer = self.records.resolve(question.name, question.rdtype)
        if answer is None or answer.chase is not None:
            return None
        if not self.synced():
            response.set_rcode(dns.rcode.SERVFAIL)
            return response, None
        return self._fill(response, answer), answer.namespace

    async def answer_later(self, query: dns.message.Message, *, tcp: bool) -> dns.message.Message:
        question = query.question[0]
        answer = self.records.resolve(question.name, question.rdtype)
        if answer is None:
            forwarded = await self._forward(query, tcp=tcp)
            if forwarded is not None:
                return forwarded
            response = self._response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        response = self._response(query)
        if answer.chase is not None:  # an ExternalName pointing outside: resolve its target upstream
            chased = dns.message.make_query(answer.chase, question.rdtype)
            upstream = await self._forward(chased, tcp=tcp)
            if upstream is not None:
                answer.answer += upstream.answer
        return self._fill(response, answer)

    def _response(self, query: dns.message.Message) -> dns.message.Message:
        return dns.message.make_response(
            query, recursion_available=bool(self.upstreams), our_payload=OUR_PAYLOAD
        )

    def _fill(self, response: dns.message.Message, answer: Answer) -> dns.message.Message:
        response.flags |= dns.flags.AA
        response.set_rcode(answer.rcode)
        response.answer = _merged(answer.answer)
        response.authority = answer.authority
        response.additional = _merged(answer.additional)
        return response

    async def _forward(self, query: dns.message.Message, *, tcp: bool) -> dns.message.Message | None:
        for host, port in self.upstreams:
            try:
                reply = await dns.asyncquery.udp(
                    query, host, timeout=self.forward_timeout, port=port, ignore_unexpected=True
                )
                if tcp and reply.flags & dns.flags.TC:
                    reply = await dns.asyncquery.tcp(query, host, timeout=self.forward_timeout, port=port)
            except (OSError, dns.exception.DNSException) as exc:
                log.debug("upstream %s:%s failed for %s: %s", host, port, query.question, exc)
                continue
            reply.id = query.id
            return reply
        return None

    def respond_now(self, wire: bytes, *, tcp: bool) -> bytes | dns.message.Message | None:
        """The response's wire form if it needs no forwarding; else the parsed query, for `respond_later`;
        None for a datagram not worth an answer. Local answers are cached by the query's bytes after its ID
        (the answer depends on nothing else) until an informer reports a change."""
        key = (tcp, wire[2:])
        cached = self.responses.get(key)
        if cached is not None:
            return wire[:2] + cached
        query = _parse(wire)
        if query is None or isinstance(query, bytes):
            return query
        local = self.answer_now(query)
        if local is None:
            return query
        response, namespace = local
        out = _render(response, query, tcp=tcp)
        if response.rcode() != dns.rcode.SERVFAIL:
            self.responses.put(key, out[2:], namespace)
        return out

    async def respond_later(self, query: dns.message.Message, *, tcp: bool) -> bytes:
        return _render(await self.answer_later(query, tcp=tcp), query, tcp=tcp)

    async def handle(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """One query's wire form in, the response's out (None: not worth an answer)."""
        out = self.respond_now(wire, tcp=tcp)
        if isinstance(out, dns.message.Message):
            return await self.respond_later(out, tcp=tcp)
        return out

    def handle_datagram(self, wire: bytes, reply: asyncio.DatagramTransport, addr: tuple[str, int]) -> None:
        out = self.respond_now(wire, tcp=False)
        if isinstance(out, bytes):
            reply.sendto(out, addr)
        elif out is not None:
            task = asyncio.create_task(self._later(out, reply, addr))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _later(
        self, query: dns.message.Message, reply: asyncio.DatagramTransport, addr: tuple[str, int]
    ) -> None:
        try:
            out = await self.respond_later(query, tcp=False)
        except Exception:
            log.exception("DNS query %s from %s failed", query.question, addr)
            return
        if not reply.is_closing():
            reply.sendto(out, addr)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tcp_clients.add(writer)
        try:
            while True:
                async with asyncio.timeout(TCP_IDLE):
                    (size,) = struct.unpack("!H", await reader.readexactly(2))
                    wire = await reader.readexactly(size)
                out = await self.handle(wire, tcp=True)
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        except Exception:
            log.exception("DNS over TCP from %s failed", writer.get_extra_info("peername"))
        finally:
            self._tcp_clients.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)  # 3.11: not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._transport is not None:
            try:
                self._server.handle_datagram(data, self._transport, addr)
            except Exception:
                log.exception("DNS query from %s failed", addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("DNS UDP socket: %s", exc)


def upstreams_from_resolv_conf(text: str) -> list[Upstream]:
    """The nameservers of a resolv.conf, as upstreams on port 53."""
    found: list[Upstream] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            found.append((words[1].split("%")[0], 53))
    return found


def _parse(wire: bytes) -> dns.message.Message | bytes | None:
    """The query; or a FORMERR reply's wire form for a garbled one; or None for one not worth a reply."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        if len(wire) < 12 or wire[2] & 0x80:
            return None
        # Echo the id and opcode/RD bits, set QR, rcode FORMERR, no sections.
        return wire[:2] + bytes([0x80 | (wire[2] & 0x79), 0x01]) + bytes(8)
    if query.flags & dns.flags.QR:
        return None  # a response sent to us: answering could loop
    return query


def _render(response: dns.message.Message, query: dns.message.Message, *, tcp: bool) -> bytes:
    if tcp:
        limit = 65535
    elif query.edns >= 0:
        limit = max(UDP_DEFAULT_SIZE, min(query.payload, OUR_PAYLOAD))
    else:
        limit = UDP_DEFAULT_SIZE
    return response.to_wire(max_size=limit, prefer_truncation=True)


def _merged(rrsets: list[dns.rrset.RRset]) -> list[dns.rrset.RRset]:
    """One rrset per (name, type): records gathered from several places must not repeat an owner+type."""
    merged: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
    for rrset in rrsets:
        key = (rrset.name, rrset.rdtype)
        existing = merged.get(key)
        # A new set rather than adding to one: an rrset may be shared (the zone's SOA).
        merged[key] = (
            rrset
            if existing is None
            else dns.rrset.from_rdata_list(rrset.name, min(existing.ttl, rrset.ttl), [*existing, *rrset])
        )
    return list(merged.values())
