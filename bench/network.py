"""Cluster networking benchmark: one function per measurement, results printed as one JSON document.

    .venv/bin/python bench/network.py [--quick] [--only service_throughput,rule_sync]

Needs root (network namespaces, iptables). Everything runs inside namespaces this script creates.

- service_throughput: HTTP requests/s, one new TCP connection per request, to a busybox httpd pod — straight
  to the pod IP and through a ClusterIP (the proxy's rules), from the node netns and from another pod,
  alternating rounds in the same run; the ratios are the figures to read (target >= 0.9).
- rule_sync: with N Services (default 1,000) and their EndpointSlices in a real API server, the time from
  an EndpointSlice update until the proxy has the new endpoint's rules in the kernel (p50/p99, target
  p99 <= 1 s), the part of it the proxy's sync itself took, and the first full sync.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubelite.client import kubeconfig
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.proxy.iptables import Iptables, RuleSyncer
from kubelite.proxy.model import Endpoint, ServicePort
from kubelite.proxy.rules import build, chain_name
from kubelite.proxy.run import ENDPOINTSLICES, SERVICES, ServiceProxy
from tests.integration.apiserver.conftest import start_server, stop_server
from tests.integration.proxy.topology import HTTP_PORT, PodNetwork
from tests.support.netns import NetNamespace

CLUSTER_IP = "10.43.7.7"

# New connection per request, sequential: what a ClusterIP's DNAT costs shows up per connection.
CLIENT = """
import socket, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
request = f"GET / HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n".encode()
done, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    with socket.create_connection((host, port)) as s:
        s.sendall(request)
        while s.recv(65536):
            pass
    done += 1
print(done / seconds)
"""


async def _client_rate(node: NetNamespace, host: str, port: int, seconds: float) -> float:
    process = await asyncio.create_subprocess_exec(
        *node.enter,
        sys.executable,
        "-c",
        CLIENT,
        host,
        str(port),
        str(seconds),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"client failed ({process.returncode})")
    return float(out)


async def service_throughput(quick: bool) -> dict[str, Any]:
    seconds, rounds = (1.0, 2) if quick else (2.0, 4)
    with PodNetwork(pods=2) as net:
        server, client_pod = net.pods
        endpoint = Endpoint(server.ip, HTTP_PORT, ready=True, serving=True, terminating=False, node_name="n1")
        port = ServicePort(
            "default", "web", "", "tcp", (CLUSTER_IP,), 80, None, (), None, False, False, (endpoint,)
        )
        syncer = RuleSyncer(Iptables(net.node.path))
        await syncer.sync(build([port], node_name="n1", cluster_cidr="10.42.0.0/16"))
        # From the node the ClusterIP path is also masqueraded (its source is outside the cluster CIDR, as
        # upstream does); from a pod it is DNAT only.
        clients = {"node": net.node, "pod": client_pod.netns}
        rates: dict[str, list[float]] = {f"{c}_{t}": [] for c in clients for t in ("direct", "cluster_ip")}
        try:
            for _ in range(rounds):
                for name, netns in clients.items():
                    rates[f"{name}_direct"].append(await _client_rate(netns, server.ip, HTTP_PORT, seconds))
                    rates[f"{name}_cluster_ip"].append(await _client_rate(netns, CLUSTER_IP, 80, seconds))
        finally:
            await syncer.cleanup()
    medians = {f"{k}_rps": round(statistics.median(v)) for k, v in rates.items()}
    ratios = {
        f"{c}_ratio": round(medians[f"{c}_cluster_ip_rps"] / medians[f"{c}_direct_rps"], 3) for c in clients
    }
    return {**medians, **ratios, "rounds": rounds, "seconds_per_round": seconds}


def _slice(name: str, ip: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": name}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": "n1"}],
    }


async def _bounded(jobs: list[Callable[[], Awaitable[Any]]], limit: int = 32) -> None:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(one(job) for job in jobs))


def _ip(n: int) -> str:
    return f"10.42.{n // 250}.{n % 250 + 2}"


async def rule_sync(quick: bool, services: int) -> dict[str, Any]:
    services = 100 if quick else services
    changes = 20 if quick else 100
    with tempfile.TemporaryDirectory() as tmp, NetNamespace("klpxbench") as node:
        server, thread = start_server(Path(tmp) / "data")
        try:
            async with RestClient(kubeconfig.load(server.kubeconfig)) as client:
                names = [f"svc-{i}" for i in range(services)]

                def create(name: str, i: int) -> Callable[[], Awaitable[Any]]:
                    async def job() -> None:
                        body = {"metadata": {"name": name}, "spec": {"ports": [{"name": "http", "port": 80}]}}
                        await client.create(SERVICES, body, namespace="default")
                        await client.create(ENDPOINTSLICES, _slice(name, _ip(i)), namespace="default")

                    return job

                await _bounded([create(name, i) for i, name in enumerate(names)])
                informers = InformerFactory(client)
                proxy = ServiceProxy(
                    client, informers, node_name="n1", node_netns=node.path, cluster_cidr="10.42.0.0/16"
                )
                started = time.perf_counter()
                tasks = [asyncio.create_task(informers.run()), asyncio.create_task(proxy.run())]
                try:
                    await proxy.synced.wait()
                    first_sync = time.perf_counter() - started
                    latencies, sync_times = [], []
                    for n in range(changes):
                        name = names[n * 7 % services]
                        ip = _ip(services + n)
                        sep = chain_name("KL-SEP-", f"default/{name}:http/tcp", f"{ip}:8080")
                        current = await client.get(ENDPOINTSLICES, name, namespace="default")
                        body = _slice(name, ip)
                        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                        began = time.perf_counter()
                        await client.update(ENDPOINTSLICES, body, namespace="default")
                        # Polling costs at most 2 ms of resolution; the proxy has no per-chain notification.
                        while proxy.syncer.applied_chain("nat", sep) is None:  # noqa: ASYNC110
                            await asyncio.sleep(0.002)
                        latencies.append(time.perf_counter() - began)
                        sync_times.append(proxy.last_sync_seconds)
                        await asyncio.sleep(0.15)  # past the min sync period: each change is measured alone
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    await proxy.cleanup()
        finally:
            stop_server(server, thread)
    latencies.sort()
    return {
        "services": services,
        "changes": changes,
        "first_sync_s": round(first_sync, 3),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        # Of which the proxy's own sync (rebuild all rules in Python + one iptables-restore):
        "sync_p50_ms": round(statistics.median(sync_times) * 1000, 1),
        "sync_max_ms": round(max(sync_times) * 1000, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--only", default="", help="comma-separated measurement names")
    args = parser.parse_args()
    measurements: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
        "service_throughput": lambda: service_throughput(args.quick),
        "rule_sync": lambda: rule_sync(args.quick, args.services),
    }
    chosen = [m for m in args.only.split(",") if m] or list(measurements)
    results: dict[str, Any] = {"machine": {"python": platform.python_version(), "kernel": platform.release()}}
    for name in chosen:
        results[name] = await measurements[name]()
        print(f"{name}: {results[name]}", file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
