"""Cluster networking benchmark: one function per measurement, results printed as one JSON document.

    .venv/bin/python bench/network.py [--quick] [--only service_throughput,rule_sync]

Needs root (network namespaces, iptables). Everything runs inside namespaces this script creates.

- service_throughput: HTTP requests/s, one new TCP connection per request, to a busybox httpd pod — straight
  to the pod IP and through a ClusterIP (the proxy's rules), from the node netns and from another pod; one
  client alternates between the paths every 20 requests; the median per-round ratio is the figure to read
  (target >= 0.9).
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
from tests.integration.proxy.topology import HTTP_PORT, PodNetwork, http_get
from tests.support.netns import NetNamespace

CLUSTER_IP = "10.43.7.7"
SERVICE_PORT = 8081  # the Service's endpoint: a second busybox httpd in the same pod (see service_throughput)

# One client process per source alternates between the two paths every BATCH requests, so both see the same
# machine load (other work on the machine moves the absolute rates by 2x within seconds). Sequential, one new
# connection per request: what a ClusterIP's DNAT/SNAT costs shows up per connection.
BATCH = 20
CLIENT = """
import json, socket, sys, time
seconds, batch = float(sys.argv[1]), int(sys.argv[2])
targets = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in sys.argv[3:]]
spent = [0.0] * len(targets)
done, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    for i, (host, port) in enumerate(targets):
        request = f"GET / HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n".encode()
        began = time.monotonic()
        for _ in range(batch):
            with socket.create_connection((host, port)) as s:
                s.sendall(request)
                while s.recv(65536):
                    pass
        spent[i] += time.monotonic() - began
    done += batch
print(json.dumps([done / t for t in spent]))
"""


async def _output(netns: NetNamespace, *command: str) -> str:
    process = await asyncio.create_subprocess_exec(*netns.enter, *command, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({process.returncode})")
    return out.decode()


async def _client_rates(netns: NetNamespace, seconds: float, *targets: str) -> list[float]:
    """Requests/s to each `host:port` target, measured alternately by one client."""
    rates: list[float] = json.loads(
        await _output(netns, sys.executable, "-c", CLIENT, str(seconds), str(BATCH), *targets)
    )
    return rates


async def _tcp_counters(netns: NetNamespace) -> dict[str, int]:
    """TcpExt counters of the namespace (/proc/net follows the entered namespace)."""
    lines = (await _output(netns, "cat", "/proc/net/netstat")).splitlines()
    counters: dict[str, int] = {}
    for names, values in zip(lines[::2], lines[1::2], strict=True):
        if names.startswith("TcpExt:"):
            counters.update(zip(names.split()[1:], map(int, values.split()[1:]), strict=True))
    return counters


async def _second_httpd(netns: NetNamespace, root: Path) -> asyncio.subprocess.Process:
    (root / "index.html").write_text("service\n")
    process = await asyncio.create_subprocess_exec(
        *netns.enter, "busybox", "httpd", "-f", "-p", str(SERVICE_PORT), "-h", str(root)
    )
    for _ in range(50):
        if (await http_get(netns, f"http://127.0.0.1:{SERVICE_PORT}/"))[0]:
            return process
        await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError("busybox httpd did not start")


async def service_throughput(quick: bool) -> dict[str, Any]:
    """Each path gets its own httpd port in the server pod, so the server's TIME_WAIT sockets of one path
    never meet the other's connections: a direct connection and a ClusterIP one from the same client address
    may share a 4-tuple at the pod but carry unrelated TCP timestamps, and the PAWS check would then stall
    whichever path ran second — an order effect of mixing paths within a minute, not a cost of either."""
    seconds, rounds = (1.0, 2) if quick else (3.0, 5)
    with PodNetwork(pods=2) as net, tempfile.TemporaryDirectory() as www:
        server, client_pod = net.pods
        endpoint = Endpoint(
            server.ip, SERVICE_PORT, ready=True, serving=True, terminating=False, node_name="n1"
        )
        port = ServicePort(
            "default", "web", "", "tcp", (CLUSTER_IP,), 80, None, (), None, False, False, (endpoint,)
        )
        # From the node the ClusterIP path is also masqueraded (its source is outside the cluster CIDR, as
        # upstream does); from a pod it is DNAT only.
        clients = {"node": net.node, "pod": client_pod.netns}
        rates: dict[str, list[float]] = {f"{c}_{t}": [] for c in clients for t in ("direct", "cluster_ip")}
        ratios: dict[str, list[float]] = {c: [] for c in clients}
        syncer = RuleSyncer(Iptables(net.node.path))
        httpd = await _second_httpd(server.netns, Path(www))
        try:
            await syncer.sync(build([port], node_name="n1", cluster_cidr="10.42.0.0/16"))
            before = await _tcp_counters(server.netns)
            for round_ in range(rounds):
                for name, netns in clients.items():
                    targets = [f"{server.ip}:{HTTP_PORT}", f"{CLUSTER_IP}:80"]
                    order = targets if round_ % 2 == 0 else targets[::-1]  # either path may go first
                    measured = dict(zip(order, await _client_rates(netns, seconds, *order), strict=True))
                    direct, cluster_ip = measured[targets[0]], measured[targets[1]]
                    rates[f"{name}_direct"].append(direct)
                    rates[f"{name}_cluster_ip"].append(cluster_ip)
                    ratios[name].append(cluster_ip / direct)
            after = await _tcp_counters(server.netns)
        finally:
            await syncer.cleanup()
            httpd.kill()
            await httpd.wait()
    medians = {f"{k}_rps": round(statistics.median(v)) for k, v in rates.items()}
    spread: dict[str, Any] = {f"{c}_ratio": round(statistics.median(v), 3) for c, v in ratios.items()}
    spread |= {f"{c}_ratio_range": [round(min(v), 3), round(max(v), 3)] for c, v in ratios.items()}
    # SYNs the pod's TIME_WAIT sockets refused (PAWS): each costs its client a SYN retransmission.
    paws = after.get("PAWSTimewait", 0) - before.get("PAWSTimewait", 0)
    return {
        **medians,
        **spread,
        "server_paws_rejected_syns": paws,
        "rounds": rounds,
        "seconds_per_round": seconds,
    }


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
