"""Node agent benchmark: pod startup latency, a 100-replica Deployment, and the agent's idle footprint.

Setup: `kubelite server --disable-agent` and a separate `kubelite agent` (crun), both inside a network
namespace of this benchmark's own, so the agent's memory and CPU are its own. The measuring client runs in
that namespace too (the script re-executes itself under nsenter).

- raw baseline: `crun run` of the same busybox image (an overlay of its layer and a `crun spec` bundle),
  the floor any agent starting that container sits on;
- single pod: create → Running, observed through a watch, one pod at a time (p50/p99);
- deployment: a 100-replica Deployment from create until all 100 pods are Running;
- idle: the agent's RSS and CPU share over a quiet window with nothing scheduled.

Targets (issue #5): single-pod p99 ≤ 0.5 s; 100 replicas ≤ 10 s; idle RSS ≤ 60 MB, idle CPU ≤ 1 % of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubelite.agent.images.builtin import ensure_builtin_busybox  # noqa: E402
from kubelite.agent.images.store import ImageStore  # noqa: E402
from kubelite.client import kubeconfig, paths  # noqa: E402
from kubelite.client.rest import RestClient  # noqa: E402
from tests.support.cluster import cleanup_agent_leftovers  # noqa: E402

PODS = paths.resource("", "v1", "pods")
NODES = paths.resource("", "v1", "nodes")
DEPLOYMENTS = paths.resource("apps", "v1", "deployments")
NAMESPACES = paths.resource("", "v1", "namespaces")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def raw_crun(work: Path, runs: int) -> dict[str, float]:
    """`crun run` of busybox `true` over an overlay of the image's layer, as a runtime alone does it."""
    store = ImageStore(work / "images")
    layers = store.unpack(asyncio.run(ensure_builtin_busybox(store)))
    bundle = work / "bundle"
    (bundle / "rootfs").mkdir(parents=True)
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["process"].update(terminal=False, args=["true"])
    spec["linux"].pop("resources", None)
    (bundle / "config.json").write_text(json.dumps(spec))
    times = []
    for run in range(runs):
        upper, workdir = bundle / f"upper{run}", bundle / f"work{run}"
        upper.mkdir()
        workdir.mkdir()
        lower = ":".join(str(layer) for layer in reversed(layers))
        start = time.perf_counter()
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        f"lowerdir={lower},upperdir={upper},workdir={workdir}", str(bundle / "rootfs")],
                       check=True)
        try:
            subprocess.run(["crun", "run", "--bundle", str(bundle), f"bench-{uuid.uuid4().hex[:8]}"],
                           check=True, stdin=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        finally:
            subprocess.run(["umount", str(bundle / "rootfs")], check=True)
    return summary(times)


def pod_manifest(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": "busybox", "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "3600"]}],
        },
    }


async def running_after_create(client: RestClient, namespace: str, name: str) -> float:
    """Seconds from the create call until a watch shows the pod Running."""
    listed = await client.list(PODS, namespace=namespace)
    async with client.watch(PODS, namespace=namespace, field_selector=f"metadata.name={name}",
                            resource_version=listed["metadata"]["resourceVersion"]) as watch:
        start = time.perf_counter()
        await client.create(PODS, pod_manifest(name), namespace=namespace)
        async for event in watch:
            if (event.object.get("status") or {}).get("phase") == "Running":
                return time.perf_counter() - start
    raise RuntimeError(f"the watch ended before pod {name} ran")


async def deployment_all_running(client: RestClient, namespace: str, replicas: int) -> float:
    listed = await client.list(PODS, namespace=namespace)
    running: set[str] = set()
    template = pod_manifest("unused")
    deployment = {
        "metadata": {"name": "bench"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "bench"}},
            "template": {"metadata": {"labels": {"app": "bench"}}, "spec": template["spec"]},
        },
    }
    async with client.watch(PODS, namespace=namespace, label_selector="app=bench",
                            resource_version=listed["metadata"]["resourceVersion"]) as watch:
        start = time.perf_counter()
        await client.create(DEPLOYMENTS, deployment, namespace=namespace)
        async for event in watch:
            name = event.object["metadata"]["name"]
            if event.type != "DELETED" and (event.object.get("status") or {}).get("phase") == "Running":
                running.add(name)
                if len(running) == replicas:
                    return time.perf_counter() - start
    raise RuntimeError("the watch ended before every replica ran")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def poll(check: Callable[[], Awaitable[bool]], *, every: float = 0.2, within: float = 300) -> None:
    deadline = time.perf_counter() + within
    while not await check():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step did not finish in time")
        await asyncio.sleep(every)


async def wait_empty(client: RestClient, namespace: str) -> None:
    async def empty() -> bool:
        return not (await client.list(PODS, namespace=namespace))["items"]

    await poll(empty)


async def node_ready(client: RestClient) -> bool:
    nodes = (await client.list(NODES))["items"]
    conditions = [c for n in nodes for c in n.get("status", {}).get("conditions", [])]
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def measure(work: Path, agent_pid: int, single_runs: int, replicas: int, idle_window: float) -> Any:
    async with RestClient(kubeconfig.load(work / "data" / "kubeconfig.yaml")) as client:
        namespace = "bench"
        await client.create(NAMESPACES, {"metadata": {"name": namespace}})
        await running_after_create(client, namespace, "warmup")  # the first pod creates the bridge
        single = [await running_after_create(client, namespace, f"single-{i}") for i in range(single_runs)]
        for item in (await client.list(PODS, namespace=namespace))["items"]:
            await client.delete(PODS, item["metadata"]["name"], namespace=namespace)
        await wait_empty(client, namespace)
        deployment = await deployment_all_running(client, namespace, replicas)
        await client.delete(DEPLOYMENTS, "bench", namespace=namespace)
        await wait_empty(client, namespace)
        containers = work / "node" / "agent" / "containers"

        async def torn_down() -> bool:  # pods vanish from the API before the node has cleaned up
            return not any(containers.iterdir())

        await poll(torn_down)
        await asyncio.sleep(5)  # then a few quiet sync rounds before the window
        before, start = cpu_seconds(agent_pid), time.perf_counter()
        await asyncio.sleep(idle_window)
        idle_cpu = (cpu_seconds(agent_pid) - before) / (time.perf_counter() - start)
        rss = rss_mb(agent_pid)  # at the window's end: what an idle node holds, not the burst's peak
    return {
        "single_pod_create_to_running": summary(single),
        "single_pod_runs": single_runs,
        "deployment_replicas": replicas,
        "deployment_all_running_s": round(deployment, 2),
        "agent_idle_rss_mb": round(rss, 1),
        "agent_idle_cpu_percent_of_core": round(idle_cpu * 100, 2),
    }


@contextlib.asynccontextmanager
async def started(args: list[str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(*args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def inside(work: Path, args: argparse.Namespace) -> Any:
    """Runs in the benchmark's network namespace: cluster up, measurements, cluster down."""
    python = sys.executable
    server_args = [python, "-m", "kubelite", "server", "--data-dir", str(work / "data"), "--disable-agent"]
    async with started(server_args, work / "server.log"):
        kubeconfig_path = work / "data" / "kubeconfig.yaml"

        async def written() -> bool:
            return kubeconfig_path.exists()

        await poll(written)
        agent_args = [python, "-m", "kubelite", "agent", "--kubeconfig", str(kubeconfig_path),
                      "--data-dir", str(work / "node"), "--node-name", "bench-node", "--node-ip", "127.0.0.1",
                      "--resolv-conf", ""]
        async with started(agent_args, work / "agent.log") as agent:
            async with RestClient(kubeconfig.load(kubeconfig_path)) as client:
                await poll(lambda: node_ready(client))
            return await measure(work, agent.pid, args.single, args.replicas, args.idle)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5 pods, 20 replicas, 5 s idle")
    parser.add_argument("--single", type=int, default=30, help="pods started one at a time")
    parser.add_argument("--replicas", type=int, default=100)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle window")
    parser.add_argument("--inside", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.single, args.replicas, args.idle = 5, 20, 5.0
    if args.inside is not None:
        print(json.dumps(asyncio.run(inside(args.inside, args))))
        return
    netns = f"klbench-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="kubelite-bench-node-"))
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"], check=True)
        raw = raw_crun(work / "raw", args.single)
        command = ["nsenter", f"--net=/run/netns/{netns}", "--", sys.executable, __file__,
                   "--inside", str(work), "--single", str(args.single), "--replicas", str(args.replicas),
                   "--idle", str(args.idle)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            logs = "".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in work.glob("*.log"))
            raise SystemExit(f"the measurement failed:\n{done.stderr}\n{logs}")
        cluster = json.loads(done.stdout.splitlines()[-1])
    finally:
        cleanup_agent_leftovers(work / "node" / "agent")
        subprocess.run(["ip", "netns", "delete", netns], check=False)
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "raw_crun_run": raw,
        **cluster,
        "single_pod_p99_vs_raw": round(cluster["single_pod_create_to_running"]["p99_ms"] / raw["p99_ms"], 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
