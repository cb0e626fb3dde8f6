"""Cluster DNS benchmark: queries/s and latency of kubelite's DNS server beside a raw baseline, in one run.

    .venv/bin/python bench/dns.py [--quick] [--services 1000] [--seconds 3]

A real API server holds N Services (a tenth of them headless, with a 3-endpoint EndpointSlice each); the DNS
server follows them through informers, on 127.0.0.1. The baseline is the least a Python DNS server does: an
asyncio UDP socket that parses each query with dnspython and answers one fixed A record. The load comes from a
separate process (so it does not share the server's event loop) keeping a fixed number of UDP queries in
flight: A for random Services (ClusterIP and headless), SRV for named ports, and a few NXDOMAIN names.
Measured in turn, each round: baseline_raw (prepared bytes back, asyncio's floor), baseline_dnspython,
kubelite (as deployed: answers cached until a change) and kubelite_uncached (every answer computed, as right
after a change). The ratios are the figures to read. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Drop the script's own directory from the path: this file's name would shadow the dns package.
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dns.message
import dns.rrset

from kubelite.client import kubeconfig, paths
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.dns.server import DnsServer
from tests.integration.apiserver.conftest import start_server, stop_server

SERVICES = paths.resource("", "v1", "services")
SLICES = paths.resource("discovery.k8s.io", "v1", "endpointslices")
ZONE = "cluster.local"
IN_FLIGHT = 32


# --- the load generator (runs in its own process) ------------------------------------------------------


class _Load(asyncio.DatagramProtocol):
    def __init__(self, queries: list[bytes], seconds: float) -> None:
        self.queries, self.seconds = queries, seconds
        self.sent: dict[int, float] = {}
        self.latencies: list[float] = []
        self.next_id = 0
        self.transport: Any = None
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.deadline = time.perf_counter() + self.seconds
        for _ in range(IN_FLIGHT):
            self.send()

    def send(self) -> None:
        self.next_id = (self.next_id + 1) & 0xFFFF
        wire = self.queries[self.next_id % len(self.queries)]
        self.sent[self.next_id] = time.perf_counter()
        self.transport.sendto(struct.pack("!H", self.next_id) + wire[2:])

    def datagram_received(self, data: bytes, addr: Any) -> None:
        now = time.perf_counter()
        started = self.sent.pop(struct.unpack("!H", data[:2])[0], None)
        if started is not None:
            self.latencies.append(now - started)
        if now < self.deadline:
            self.send()
        elif not self.sent and not self.done.done():
            self.done.set_result(None)


async def _generate(port: int, names: list[tuple[str, str]], seconds: float) -> dict[str, float]:
    queries = [dns.message.make_query(name, rdtype).to_wire() for name, rdtype in names]
    random.Random(1).shuffle(queries)
    loop = asyncio.get_running_loop()
    transport, load = await loop.create_datagram_endpoint(
        lambda: _Load(queries, seconds), remote_addr=("127.0.0.1", port)
    )
    started = time.perf_counter()
    try:
        await asyncio.wait_for(load.done, seconds + 2)
    except TimeoutError:
        pass  # a few datagrams lost: count what came back
    elapsed = time.perf_counter() - started
    transport.close()
    ordered = sorted(load.latencies)
    return {
        "qps": round(len(ordered) / elapsed),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 3),
        "lost": len(load.sent),
    }


async def _measure(port: int, names: list[tuple[str, str]], seconds: float) -> dict[str, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--generate", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate(json.dumps([port, names, seconds]).encode())
    return dict(json.loads(out))


# --- the servers ---------------------------------------------------------------------------------------


class _Raw(asyncio.DatagramProtocol):
    """Answer every datagram with the same prepared bytes (only the ID copied): asyncio's own floor."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        query = dns.message.make_query("fixed.example", "A")
        response = dns.message.make_response(query)
        response.answer.append(dns.rrset.from_text(query.question[0].name, 5, "IN", "A", "10.43.0.1"))
        self.body = response.to_wire()[2:]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(data[:2] + self.body, addr)


class _Dnspython(asyncio.DatagramProtocol):
    """Parse the query, answer one fixed A record: the floor for a server that parses with dnspython."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.answer.append(dns.rrset.from_text(query.question[0].name, 5, "IN", "A", "10.43.0.1"))
        self.transport.sendto(response.to_wire(max_size=512), addr)


async def _populate(client: RestClient, count: int) -> list[tuple[str, str]]:
    """Create the Services (and slices for the headless ones); the query mix to ask about them."""
    names: list[tuple[str, str]] = []
    semaphore = asyncio.Semaphore(16)

    async def one(i: int) -> None:
        name, headless = f"svc-{i:05d}", i % 10 == 0
        spec: dict[str, Any] = {"ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
        if headless:
            spec["clusterIP"] = "None"
        async with semaphore:
            await client.create(SERVICES, {"metadata": {"name": name, "namespace": "default"}, "spec": spec})
            if headless:
                endpoints = [
                    {"addresses": [f"10.42.{i // 250}.{j + 1}"], "hostname": f"p{j}"} for j in range(3)
                ]
                labels = {"kubernetes.io/service-name": name}
                body = {
                    "metadata": {"name": name, "namespace": "default", "labels": labels},
                    "addressType": "IPv4",
                    "endpoints": endpoints,
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                }
                await client.create(SLICES, body)
        fqdn = f"{name}.default.svc.{ZONE}"
        names.append((fqdn, "A"))
        if i % 4 == 0:
            names.append((f"_http._tcp.{fqdn}", "SRV"))
        if i % 20 == 0:
            names.append((f"missing-{i}.default.svc.{ZONE}", "A"))

    await asyncio.gather(*(one(i) for i in range(count)))
    return names


async def run(args: argparse.Namespace) -> dict[str, Any]:
    count = 200 if args.quick else args.services
    rounds = 2 if args.quick else 3
    with tempfile.TemporaryDirectory(prefix="kubelite-bench-dns-") as tmp:
        server, thread = start_server(Path(tmp) / "data")
        try:
            async with RestClient(kubeconfig.load(server.kubeconfig), max_connections=24) as client:
                started = time.perf_counter()
                names = await _populate(client, count)
                populate_s = time.perf_counter() - started
                informers = InformerFactory(client)
                cached = DnsServer(informers, cluster_domain=ZONE)
                uncached = DnsServer(informers, cluster_domain=ZONE, cache_size=0)
                informers_task = asyncio.create_task(informers.run())
                loop = asyncio.get_running_loop()
                baselines = [
                    (await loop.create_datagram_endpoint(factory, local_addr=("127.0.0.1", 0)))[0]
                    for factory in (_Raw, _Dnspython)
                ]
                try:
                    started = time.perf_counter()
                    await informers.wait_for_sync(60)
                    sync_s = time.perf_counter() - started
                    ports = {
                        "baseline_raw": baselines[0].get_extra_info("sockname")[1],
                        "baseline_dnspython": baselines[1].get_extra_info("sockname")[1],
                        "kubelite": await cached.listen("127.0.0.1", 0),
                        "kubelite_uncached": await uncached.listen("127.0.0.1", 0),
                    }
                    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in ports}
                    for _ in range(rounds):
                        for kind, port in ports.items():
                            results[kind].append(await _measure(port, names, args.seconds))
                finally:
                    for transport in baselines:
                        transport.close()
                    await cached.close()
                    await uncached.close()
                    informers_task.cancel()
                    await asyncio.gather(informers_task, return_exceptions=True)
        finally:
            stop_server(server, thread)
    best = {kind: max(runs, key=lambda r: r["qps"]) for kind, runs in results.items()}
    return {
        "benchmark": "dns",
        "python": platform.python_version(),
        "services": count,
        "distinct_names": len(names),
        "in_flight": IN_FLIGHT,
        "seconds_per_round": args.seconds,
        "populate_s": round(populate_s, 2),
        "informer_sync_s": round(sync_s, 3),
        "rounds": results,
        "best": best,
        "qps_ratio_to_baseline_dnspython": {
            kind: round(best[kind]["qps"] / best["baseline_dnspython"]["qps"], 3) for kind in best
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 services, 2 rounds")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)  # job on stdin
    args = parser.parse_args()
    if args.generate:
        port, names, seconds = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(_generate(port, [tuple(n) for n in names], seconds))))
        return
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
