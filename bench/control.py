"""Control-plane benchmark: scheduler throughput next to a raw binding baseline, measured in the same run.

Prints a table and, last, one JSON document. Not a timed test: these machines are noisy, so read the ratios.

    .venv/bin/python bench/control.py [--quick] [--pods 10000] [--nodes 1000,5000]

Setup per cluster size: the API server (SQLite, its own process: `--serve`), the fake agent (its own
process: `kubelite agent --runtime fake`, leases renewed every LEASE_INTERVAL s and pods moved to Running
as they are bound, as in a real cluster), and the scheduler in this process (it records a Scheduled event
per pod, as upstream does).

- raw baseline: the same number of pods, created first, bound by POSTing pods/binding directly (round-robin
  nodes, no scheduling logic), 32 requests in flight — the scheduler's ceiling on this API server;
- scheduler: the pods are all created first (concurrently, while no scheduler runs); then the scheduler
  starts, and the clock runs from its caches being synced until it has bound every pod.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubelite.client import errors, paths
from kubelite.client.rest import RestClient
from kubelite.scheduler.run import Scheduler, SchedulerConfig
from kubelite.util import memory

ROOT = Path(__file__).resolve().parents[1]
PODS = paths.resource("", "v1", "pods")
NODES = paths.resource("", "v1", "nodes")
NAMESPACES = paths.resource("", "v1", "namespaces")
CONCURRENCY = 32
# Lease renewals of the fake nodes. A kubelet renews every 10 s, but 5,000 nodes doing that would be 500
# writes/s: more than this API server's whole write rate on 2 cores, so the scheduler runs would measure lease
# traffic. Every 60 s keeps 83 writes/s of background churn at 5,000 nodes.
LEASE_INTERVAL = 60


async def serve(data_dir: Path) -> None:
    """The --serve mode: the API server alone, announcing where it is on stdout; stops on SIGTERM."""
    from kubelite.apiserver.server import ApiServerConfig, run

    api = await run(ApiServerConfig(data_dir=data_dir, port=0))
    memory.settle_heap()  # as `kubelite server` does once the API server is up
    print(json.dumps({"url": api.url, "kubeconfig": str(api.kubeconfig_path)}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await api.stop()


@contextlib.asynccontextmanager
async def process(args: list[str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process (stderr to `log`), stopped by its pid with SIGTERM (then SIGKILL) on the way out."""
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(*args, stdout=subprocess.PIPE, stderr=out, cwd=ROOT)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def each(total: int, op: Callable[[int], Awaitable[None]], workers: int = CONCURRENCY) -> float:
    """Seconds to run op(0..total-1), `workers` at a time."""

    async def run(worker: int) -> None:
        for i in range(worker, total, workers):
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(run(w) for w in range(workers)))
    return time.perf_counter() - start


def pod(name: str, namespace: str, scheduler: str) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "registry.k8s.io/pause:3.10",
        "resources": {"requests": {"cpu": "10m"}},
    }
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": namespace}},
        "spec": {"containers": [container], "schedulerName": scheduler},
    }


async def wait_for(check: Callable[[], Awaitable[bool]], *, every: float = 1.0, within: float = 900) -> float:
    start = time.perf_counter()
    while not await check():
        if time.perf_counter() - start > within:
            raise TimeoutError("benchmark step did not finish in time")
        await asyncio.sleep(every)
    return time.perf_counter() - start


async def scenario(nodes: int, pods: int, work: Path) -> dict[str, Any]:
    python = sys.executable
    async with process([python, __file__, "--serve", str(work / "server")], work / "server.log") as server:
        assert server.stdout is not None
        where = json.loads(await server.stdout.readline())
        agent_args = [python, "-m", "kubelite", "agent", "--runtime", "fake", "--fake-nodes", str(nodes),
                      "--capacity", "pods=250", "--lease-interval", str(LEASE_INTERVAL),
                      "--kubeconfig", where["kubeconfig"]]  # fmt: skip
        async with (
            process(agent_args, work / "agent.log") as agent,
            RestClient.from_kubeconfig(where["kubeconfig"], max_connections=CONCURRENCY + 8) as client,
        ):
            result: dict[str, Any] = {"nodes": nodes, "pods": pods}
            pids = {"api_server": server.pid, "agent": agent.pid, "scheduler": os.getpid()}

            async def all_nodes() -> bool:
                page = await client.list(NODES, limit=nodes + 1)
                return len(page["items"]) >= nodes

            result["node_registration_s"] = round(await wait_for(all_nodes), 1)

            for namespace in ("raw", "sched"):
                await client.create(NAMESPACES, {"metadata": {"name": namespace}})
            elapsed = await each(pods, lambda i: create(client, pod(f"raw-{i}", "raw", "bench-raw")))
            result["pod_creates_per_s"] = round(pods / elapsed)

            async def bind(i: int) -> None:
                binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": f"raw-{i}"},
                           "target": {"kind": "Node", "name": f"fake-node-{i % nodes}"}}  # fmt: skip
                await client.create_subresource(PODS, f"raw-{i}", "binding", binding, namespace="raw")

            result["raw_binds_per_s"] = round(pods / await each(pods, bind))

            async def settled(namespace: str) -> bool:  # the agent has started every pod of `namespace`
                page = await client.list(
                    PODS, namespace=namespace, field_selector="status.phase!=Running", limit=1
                )
                return not page["items"]

            result["agent_started_raw_pods_s"] = round(await wait_for(lambda: settled("raw")), 1)

            await each(pods, lambda i: create(client, pod(f"pod-{i}", "sched", "default-scheduler")))
            before = cpu_seconds(pids)
            result["scheduler_binds_per_s"] = round(await schedule_all(where["kubeconfig"], pods), 1)
            result["cpu_ms_per_pod"] = cpu_ms_since(before, pids, pods)
            # How far the agent lagged behind the binds (its status writes compete with them).
            result["agent_started_sched_pods_s"] = round(await wait_for(lambda: settled("sched")), 1)
            result["ratio_to_raw"] = round(result["scheduler_binds_per_s"] / result["raw_binds_per_s"], 2)
            return result


async def create(client: RestClient, obj: dict[str, Any]) -> None:
    with contextlib.suppress(errors.AlreadyExists):
        await client.create(PODS, obj)


async def schedule_all(kubeconfig: str, pods: int) -> float:
    """Pods bound per second by the scheduler, from its caches being synced to the last bind."""
    config = SchedulerConfig(kubeconfig=Path(kubeconfig), leader_elect=False)
    async with RestClient.from_kubeconfig(kubeconfig, max_connections=config.bind_concurrency + 16) as client:
        scheduler = Scheduler(client, config)
        task = asyncio.create_task(scheduler.run())
        try:
            await scheduler.informers.wait_for_sync()
            start = time.perf_counter()
            while scheduler.bound < pods:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
            return pods / (time.perf_counter() - start)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


DEPLOYMENTS = paths.resource("apps", "v1", "deployments")


async def deployment_scenario(nodes: int, replicas: int, work: Path) -> dict[str, Any]:
    """A `replicas`-pod Deployment on `nodes` fake nodes: seconds from its creation until every pod is
    Running and ready (status.availableReplicas), with the Deployment and ReplicaSet controllers and the
    scheduler in this process, the API server and the fake agent in their own."""
    from kubelite.client.informer import InformerFactory
    from kubelite.controllers.context import ControllerContext, ManagerConfig
    from kubelite.controllers.manager import run_controllers

    python = sys.executable
    async with process([python, __file__, "--serve", str(work / "server")], work / "server.log") as server:
        assert server.stdout is not None
        where = json.loads(await server.stdout.readline())
        kubeconfig = Path(where["kubeconfig"])
        agent_args = [python, "-m", "kubelite", "agent", "--runtime", "fake", "--kubeconfig", str(kubeconfig),
                      "--fake-nodes", str(nodes), "--capacity", "pods=250"]  # fmt: skip
        sched_config = SchedulerConfig(kubeconfig=kubeconfig, leader_elect=False)
        async with (
            process(agent_args, work / "agent.log") as agent,
            RestClient.from_kubeconfig(kubeconfig, max_connections=CONCURRENCY + 8) as client,
            RestClient.from_kubeconfig(
                kubeconfig, max_connections=sched_config.bind_concurrency + 16
            ) as sched,
        ):
            pids = {"api_server": server.pid, "agent": agent.pid, "controllers_and_scheduler": os.getpid()}

            async def all_nodes() -> bool:
                return len((await client.list(NODES, limit=nodes + 1))["items"]) >= nodes

            await wait_for(all_nodes)
            informers = InformerFactory(client, drop_managed_fields=True)  # as controllers/manager.py
            config = ManagerConfig(kubeconfig=kubeconfig)
            ctx = ControllerContext(client=client, informers=informers, config=config)
            scheduler = Scheduler(sched, sched_config)
            tasks = [
                asyncio.create_task(run_controllers(ctx, names={"replicaset", "deployment"})),
                asyncio.create_task(scheduler.run()),
            ]
            try:
                await ctx.informers.wait_for_sync()
                await scheduler.informers.wait_for_sync()
                template = pod("unused", "default", "default-scheduler")
                del template["metadata"]["name"], template["metadata"]["namespace"]
                deployment = {
                    "metadata": {"name": "bench", "namespace": "default"},
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": "default"}},
                        "template": template,
                    },
                }
                before = cpu_seconds(pids)
                start = time.perf_counter()
                await client.create(DEPLOYMENTS, deployment)

                async def all_running() -> bool:
                    for task in tasks:
                        if task.done():
                            task.result()
                    d = await client.get(DEPLOYMENTS, "bench", namespace="default")
                    return int((d.get("status") or {}).get("availableReplicas") or 0) >= replicas

                await wait_for(all_running, every=0.5)
                elapsed = time.perf_counter() - start
                cpu = cpu_ms_since(before, pids, replicas)
                requests = await request_counts(client)
                per_replica = {
                    k: round(v / replicas, 2) for k, v in sorted(requests.items()) if v >= replicas / 100
                }
                return {
                    "nodes": nodes,
                    "replicas": replicas,
                    "all_running_s": round(elapsed, 1),
                    "cpu_ms_per_replica": cpu,
                    "requests_per_replica": per_replica,
                }
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds each process has used so far (Linux /proc/<pid>/stat)."""
    out = {}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_ms_since(before: dict[str, float], pids: dict[str, int], count: int) -> dict[str, float]:
    """CPU milliseconds per item each process spent since `before`: unlike wall-clock rates, barely moved by
    what else runs on the machine."""
    now = cpu_seconds(pids)
    return {name: round((now[name] - before[name]) * 1000 / count, 2) for name in pids}


async def request_counts(client: RestClient) -> dict[str, float]:
    """Requests the API server answered so far, by "VERB resource" (its apiserver_request_total)."""
    response = await client._send("GET", "/metrics", content_type=None)
    try:
        text = (await response.read()).decode()
    finally:
        response.release()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            key = f"{labels['verb']} {labels['resource']}"
            counts[key] = counts.get(key, 0) + float(line.rsplit(" ", 1)[1])
    return counts


def table(rows: list[dict[str, Any]]) -> str:
    columns = ["nodes", "pods", "node_registration_s", "pod_creates_per_s", "raw_binds_per_s",
               "scheduler_binds_per_s", "ratio_to_raw", "agent_started_raw_pods_s",
               "agent_started_sched_pods_s"]  # fmt: skip
    lines = [" | ".join(columns)]
    lines += [" | ".join(str(row.get(c, "")) for c in columns) for row in rows]
    return "\n".join(lines)


async def deployment_run(args: argparse.Namespace) -> dict[str, Any]:
    replicas = 1000 if args.quick else args.deployment_replicas
    with tempfile.TemporaryDirectory(prefix="kubelite-bench-deployment-") as tmp:
        result = await deployment_scenario(100, replicas, Path(tmp))
    print(
        f"deployment of {replicas} replicas on 100 nodes: all Running in {result['all_running_s']} s;"
        f" API requests per replica: {result['requests_per_replica']};"
        f" CPU ms per replica: {result['cpu_ms_per_replica']}",
        flush=True,
    )
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,000 pods on 100 and 500 nodes")
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--nodes", default="1000,5000", help="comma-separated cluster sizes ('' for none)")
    parser.add_argument("--deployment-replicas", type=int, default=10_000, help="0 skips the Deployment")
    args = parser.parse_args()
    if args.serve is not None:
        await serve(args.serve)
        return
    sizes = [100, 500] if args.quick else [int(n) for n in args.nodes.split(",") if n]
    pods = 1000 if args.quick else args.pods
    rows = []
    for nodes in sizes:
        with tempfile.TemporaryDirectory(prefix="kubelite-bench-control-") as tmp:
            rows.append(await scenario(nodes, pods, Path(tmp)))
        print(table(rows[-1:]), flush=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "scheduler": rows,
        "deployment": await deployment_run(args) if args.deployment_replicas else None,
    }
    print(table(rows))
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
