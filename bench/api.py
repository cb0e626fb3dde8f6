"""API server benchmark: creates, gets, a 10k-pod list and watch fan-out over HTTPS, next to a bare aiohttp
server over the same TLS setup and next to the raw store, all measured in the same run.

Prints a table and, last, one JSON document. Not a timed test: these machines are noisy, so read the ratios
and the server CPU per request, which other load on the machine disturbs least.

    .venv/bin/python bench/api.py [--quick] [--profile FILE]

The API server runs in this process on its own event loop thread, as the test fixture runs it, on SQLite in a
temp dir. The load comes from child processes (aiohttp, the admin token, 16 concurrent clients), one per
phase, as real clients are other processes: sharing this interpreter would halve the server's CPU. The raw
HTTP baseline is an aiohttp app on the same thread with the same certificate, driven by the same client: POST
and GET answer a fixed pod-sized JSON body, a watch streams each POSTed body to every open watch, and a list
is a body of the API list's size. The raw store is kubelite.store's SQLite driver called directly (creates
and gets of the same pods, 16 tasks). --profile FILE writes cProfile statistics (CPU time) of the server
thread during each phase to FILE.<phase>.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import platform
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubelite.apiserver import tls
from kubelite.apiserver.server import ApiServer, ApiServerConfig, run
from kubelite.store import open_store
from kubelite.util import memory

CONCURRENCY = 16
NAMESPACE = "bench"
FANOUT_NAMESPACE = "fanout"
TARGETS = {  # the API server section of the issue, on a 2-core machine
    "create_per_s": (">=", 1000.0),
    "create_p99_ms": ("<=", 50.0),
    "get_per_s": (">=", 3000.0),
    "list_pods_ms": ("<=", 300.0),
    "watch_fanout_p99_ms": ("<=", 100.0),
}
STORED_POD_BYTES = 1350  # what the API server answers for a created bench pod
FULL_SIZES = {"pods": 10_000, "watchers": 500, "changes": 5}
QUICK_SIZES = {"pods": 1_000, "watchers": 100, "changes": 3}
T = TypeVar("T")


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "web"}},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
    }


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def drive(total: int, op: Callable[[int], Awaitable[None]]) -> dict[str, float]:
    """Run op(0..total-1) from CONCURRENCY tasks: rate and latency percentiles (ms)."""
    latencies: list[float] = []

    async def worker(first: int) -> None:
        for i in range(first, total, CONCURRENCY):
            started = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return {
        "per_s": total / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


# --- the load generator (child process) ---------------------------------------------------------------


async def expect(response: aiohttp.ClientResponse, status: int) -> bytes:
    body = await response.read()
    if response.status != status:
        raise RuntimeError(f"{response.method} {response.url}: {response.status} {body[:300]!r}")
    return body


async def measure_raw_creates(session: aiohttp.ClientSession, url: str, total: int) -> dict[str, Any]:
    body = orjson.dumps(pod("raw"))

    async def post(i: int) -> None:
        async with session.post(f"{url}/raw", data=body) as response:
            await expect(response, 201)

    return await drive(total, post)


async def measure_raw_gets(session: aiohttp.ClientSession, url: str, total: int) -> dict[str, Any]:
    return await drive(total, lambda i: fetch(session, f"{url}/raw"))


async def measure_creates(session: aiohttp.ClientSession, url: str, count: int) -> dict[str, Any]:
    for namespace in (NAMESPACE, FANOUT_NAMESPACE):
        async with session.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": namespace}}) as r:
            await expect(r, 201)
    pods = f"{url}/api/v1/namespaces/{NAMESPACE}/pods"

    async def create(i: int) -> None:
        async with session.post(pods, data=orjson.dumps(pod(f"p-{i:06d}"))) as response:
            await expect(response, 201)

    return await drive(count, create)


async def measure_gets(session: aiohttp.ClientSession, url: str, count: int) -> dict[str, Any]:
    pods = f"{url}/api/v1/namespaces/{NAMESPACE}/pods"

    async def get(i: int) -> None:
        async with session.get(f"{pods}/p-{i:06d}") as response:
            await expect(response, 200)

    return await drive(count, get)


async def measure_list(session: aiohttp.ClientSession, url: str, raw_url: str, count: int) -> dict[str, Any]:
    """Full lists of the pods (best and median of 5), then a raw HTTP body of the same size."""

    async def best_of_five(target: str) -> tuple[list[float], bytes]:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            async with session.get(target) as response:
                body = await expect(response, 200)
            timings.append(time.perf_counter() - started)  # the whole body received; parsing it is ours
        return timings, body

    timings, body = await best_of_five(f"{url}/api/v1/namespaces/{NAMESPACE}/pods")
    listed = len(orjson.loads(body)["items"])
    if listed != count:
        raise RuntimeError(f"listed {listed} pods, created {count}")
    raw_timings, _ = await best_of_five(f"{raw_url}/raw?bytes={len(body)}")
    return {
        "pods": count,
        "bytes": len(body),
        "best_ms": min(timings) * 1000,
        "median_ms": percentile(timings, 0.5) * 1000,
        "raw_http_best_ms": min(raw_timings) * 1000,
    }


async def measure_api_fanout(
    session: aiohttp.ClientSession, url: str, sizes: dict[str, int]
) -> dict[str, float]:
    pods = f"{url}/api/v1/namespaces/{FANOUT_NAMESPACE}/pods"
    async with session.get(pods, params={"limit": "1"}) as response:
        revision = orjson.loads(await expect(response, 200))["metadata"]["resourceVersion"]
    query = {"watch": "true", "resourceVersion": revision, "timeoutSeconds": "600"}
    return await measure_fanout(session, pods, query, pods, sizes["watchers"], sizes["changes"])


async def measure_fanout(
    session: aiohttp.ClientSession,
    watch_url: str,
    query: dict[str, str],
    create_url: str,
    watchers: int,
    changes: int,
) -> dict[str, float]:
    """Delay from sending a create to each of `watchers` watches receiving its event."""
    names = [f"change-{i}" for i in range(changes)]
    sent: dict[str, float] = {}
    delays: dict[str, list[float]] = {name: [] for name in names}
    everyone_saw = {name: asyncio.Event() for name in names}
    established: list[None] = []
    all_established = asyncio.Event()

    async def watch() -> None:
        timeout = aiohttp.ClientTimeout(total=None)
        async with session.get(watch_url, params=query, timeout=timeout) as response:
            await expect_stream(response)
            established.append(None)
            if len(established) == watchers:
                all_established.set()
            for _ in names:
                line = await response.content.readline()
                arrived = time.perf_counter()  # before parsing: the client's own work is not the server's
                if not line:
                    raise RuntimeError("a watch ended early")
                event = orjson.loads(line)
                name = event["object"]["metadata"]["name"]
                delays[name].append(arrived - sent[name])
                if len(delays[name]) == watchers:
                    everyone_saw[name].set()

    tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
    await asyncio.wait_for(all_established.wait(), 120)
    await asyncio.sleep(0.5)
    for name in names:
        sent[name] = time.perf_counter()
        async with session.post(create_url, data=orjson.dumps(pod(name))) as response:
            await expect(response, 201)
        await asyncio.wait_for(everyone_saw[name].wait(), 60)
        await asyncio.sleep(0.2)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    samples = [d for per_change in delays.values() for d in per_change]
    return {
        "watchers": watchers,
        "changes": changes,
        "p50_ms": percentile(samples, 0.5) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
        "max_ms": max(samples) * 1000,
    }


async def fetch(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(url) as response:
        await expect(response, 200)


async def expect_stream(response: aiohttp.ClientResponse) -> None:
    if response.status != 200:
        raise RuntimeError(f"watch: {response.status} {(await response.read())[:300]!r}")


async def client_main(config: dict[str, Any]) -> dict[str, Any]:
    """One phase of the load, named by config["phase"], from a fresh process and connection pool."""
    context = ssl.create_default_context(cafile=config["ca"])
    headers = {"Authorization": f"Bearer {config['token']}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(ssl=context, limit=0)
    phase, sizes = config["phase"], config["sizes"]
    url = config["raw_url"] if phase.startswith("raw_") else config["api_url"]
    # Open (TLS handshake) the connections before anything is timed.
    warm_up = url + ("/raw" if phase.startswith("raw_") else "/version")
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        await drive(CONCURRENCY * 4, lambda i: fetch(session, warm_up))
        cpu = time.process_time()
        result = await run_phase(session, phase, url, config["raw_url"], sizes)
        result["client_cpu_s"] = time.process_time() - cpu
        return result


async def run_phase(
    session: aiohttp.ClientSession, phase: str, url: str, raw_url: str, sizes: dict[str, int]
) -> dict[str, Any]:
    if phase == "raw_create":
        return await measure_raw_creates(session, url, sizes["pods"])
    if phase == "raw_get":
        return await measure_raw_gets(session, url, sizes["pods"])
    if phase == "raw_watch":
        raw = f"{url}/raw"
        return await measure_fanout(session, raw, {"watch": "1"}, raw, sizes["watchers"], sizes["changes"])
    if phase == "create":
        return await measure_creates(session, url, sizes["pods"])
    if phase == "get":
        return await measure_gets(session, url, sizes["pods"])
    if phase == "list":
        return await measure_list(session, url, raw_url, sizes["pods"])
    return await measure_api_fanout(session, url, sizes)


# --- the servers (this process, one event loop thread) ------------------------------------------------


class LoopThread:
    """An event loop in a background thread, like the test fixture's server thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="servers", daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run_in_thread(self, fn: Callable[[], None]) -> None:
        async def call() -> None:
            fn()

        self.call(call())

    def close(self) -> None:
        async def cancel_the_rest() -> None:  # e.g. handlers of streams whose clients left
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.call(cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


def as_stored(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` padded to the size the API server answers for a created pod (defaults, managedFields)."""
    padding = STORED_POD_BYTES - len(orjson.dumps(obj)) - len(',"annotations":{"pad":""}')
    return {**obj, "metadata": {**obj["metadata"], "annotations": {"pad": "x" * max(padding, 0)}}}


async def start_raw_http(files: tls.TLSFiles) -> tuple[web.AppRunner, str]:
    """The baseline: POST /raw and GET /raw answer a fixed JSON body of a created pod's size; GET /raw?watch
    streams, as newline-delimited JSON, an ADDED event for each pod POSTed while it is open."""
    body = orjson.dumps(as_stored(pod("raw")))
    watchers: set[asyncio.Queue[bytes]] = set()

    async def created(request: web.Request) -> web.Response:
        posted = orjson.loads(await request.read())
        if watchers:
            line = orjson.dumps({"type": "ADDED", "object": as_stored(posted)}) + b"\n"
            for queue in watchers:
                queue.put_nowait(line)
        return web.Response(body=body, status=201, content_type="application/json")

    async def fetched(request: web.Request) -> web.StreamResponse:
        if "bytes" in request.query:  # a body as large as a list's, for the list baseline
            size = int(request.query["bytes"])
            return web.Response(
                body=b'{"items":"' + b"x" * (size - 12) + b'"}', content_type="application/json"
            )
        if "watch" not in request.query:
            return web.Response(body=body, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        watchers.add(queue)
        try:
            with contextlib.suppress(ConnectionResetError):
                while True:
                    await response.write(await queue.get())
        finally:
            watchers.discard(queue)
        return response

    app = web.Application()
    app.router.add_post("/raw", created)
    app.router.add_get("/raw", fetched)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls.server_ssl_context(files))
    await site.start()
    port = next(a[1] for a in runner.addresses if isinstance(a, tuple))
    return runner, f"https://127.0.0.1:{port}"


# --- the raw store (this process, no HTTP) ------------------------------------------------------------


async def measure_raw_store(path: Path, count: int) -> dict[str, Any]:
    store = await open_store(f"sqlite://{path}")
    value = orjson.dumps(as_stored(pod("p-000000")))  # the size the API server stores
    try:

        async def create(i: int) -> None:
            await store.create(f"/registry/pods/{NAMESPACE}/p-{i:06d}", value)

        async def get(i: int) -> None:
            await store.get(f"/registry/pods/{NAMESPACE}/p-{i:06d}")

        results: dict[str, Any] = {}
        for op, call in (("create", create), ("get", get)):
            cpu = time.process_time()
            results[op] = await drive(count, call)
            results[op]["server_cpu_ms"] = (time.process_time() - cpu) / count * 1000
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            listed = await store.list(f"/registry/pods/{NAMESPACE}/")
            timings.append(time.perf_counter() - started)
        assert len(listed.items) == count
        results["list"] = {"best_ms": min(timings) * 1000}
        return results
    finally:
        await store.close()


# --- driving ------------------------------------------------------------------------------------------


def run_client(config: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--client"],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the load generator failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


PHASES = ("raw_create", "raw_get", "raw_watch", "create", "get", "list", "watch")
PER_OBJECT = ("raw_create", "raw_get", "create", "get")  # phases of one request per pod


def measure_servers(workdir: Path, sizes: dict[str, int], profile: Path | None) -> dict[str, Any]:
    """Each phase from its own client process, in order (later phases read what "create" made)."""
    servers = LoopThread()
    try:
        api: ApiServer = servers.call(run(ApiServerConfig(data_dir=workdir / "api", port=0)))
        memory.settle_heap()  # as `kubelite server` does once the API server is up
        raw_runner, raw_url = servers.call(
            start_raw_http(tls.TLSFiles.under(workdir / "api" / "server" / "tls"))
        )
        config = {
            "api_url": api.url,
            "raw_url": raw_url,
            "token": api.token,
            "ca": str(api.ca_cert_path),
            "sizes": sizes,
        }
        measured: dict[str, Any] = {}
        for phase in PHASES:
            # Thread CPU time, not wall time: the other work on a shared machine does not land in the profile.
            profiler = cProfile.Profile(time.thread_time)
            if profile:
                servers.run_in_thread(profiler.enable)
            cpu = time.process_time()  # this process is the servers: its other threads are idle
            measured[phase] = run_client({**config, "phase": phase})
            if phase in PER_OBJECT:
                measured[phase]["server_cpu_ms"] = (time.process_time() - cpu) / sizes["pods"] * 1000
                measured[phase]["client_cpu_ms"] = measured[phase]["client_cpu_s"] / sizes["pods"] * 1000
            if profile:
                servers.run_in_thread(profiler.disable)
                profiler.dump_stats(f"{profile}.{phase}")
        servers.call(raw_runner.cleanup())
        servers.call(api.stop())
    finally:
        servers.close()
    raw = {op: measured[f"raw_{op}"] for op in ("create", "get", "watch")}
    return {"raw_http": raw, "api": {op: measured[op] for op in ("create", "get", "list", "watch")}}


def verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    api = report["api"]
    values = {
        "create_per_s": api["create"]["per_s"],
        "create_p99_ms": api["create"]["p99_ms"],
        "get_per_s": api["get"]["per_s"],
        "list_pods_ms": api["list"]["best_ms"],
        "watch_fanout_p99_ms": api["watch"]["p99_ms"],
    }
    out = {}
    for name, (op, target) in TARGETS.items():
        value = values[name]
        met = value >= target if op == ">=" else value <= target
        out[name] = {"value": round(value, 2), "target": f"{op} {target:g}", "met": met}
    return out


def print_table(report: dict[str, Any]) -> None:
    api, raw, store = report["api"], report["raw_http"], report["raw_store"]

    def row(label: str, *cells: str) -> None:
        print(f"{label:40}" + "".join(f"{c:>16}" for c in cells))

    def rate(x: dict[str, float]) -> str:
        return f"{x['per_s']:,.0f}/s"

    def lat(x: dict[str, float]) -> str:
        return f"{x['p50_ms']:.1f} / {x['p99_ms']:.1f}"

    print(f"\nAPI server, {CONCURRENCY} concurrent clients, {report['sizes']['pods']:,} pods")
    row("", "API server", "raw HTTP", "raw store")
    for op in ("create", "get"):
        row(f"{op}s/s", rate(api[op]), rate(raw[op]), rate(store[op]))
        row(f"{op} p50 / p99 ms", lat(api[op]), lat(raw[op]), lat(store[op]))
        row(f"{op}: server CPU per {op} (ms)", *(f"{x[op]['server_cpu_ms']:.3f}" for x in (api, raw, store)))
        row(f"{op}: client CPU per {op} (ms)", *(f"{x[op]['client_cpu_ms']:.3f}" for x in (api, raw)))
    listed = api["list"]
    row(
        f"list {listed['pods']:,} pods, {listed['bytes'] / 1e6:.1f} MB (best of 5)",
        f"{listed['best_ms']:.0f} ms",
        f"{listed['raw_http_best_ms']:.0f} ms",
        f"{store['list']['best_ms']:.0f} ms",
    )
    watch = api["watch"]
    row(f"watch fan-out {watch['watchers']} x {watch['changes']} p50 / p99 ms", lat(watch), lat(raw["watch"]))
    quick = report["sizes"] != FULL_SIZES
    print("\ntargets" + (" (quick run: fewer pods and watchers than the targets assume)" if quick else ""))
    for name, verdict in report["targets"].items():
        met = "met" if verdict["met"] else "MISSED"
        print(f"  {name:22} {verdict['value']:>12,.2f}  {verdict['target']:>8}  {met}")


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the server thread to FILE.<phase>"
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(client_main(json.loads(sys.stdin.read())))))
        return
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "sizes": sizes,
        "concurrency": CONCURRENCY,
    }
    with tempfile.TemporaryDirectory(prefix="kubelite-bench-api-") as tmp:
        report.update(measure_servers(Path(tmp), sizes, args.profile))
        report["raw_store"] = asyncio.run(measure_raw_store(Path(tmp) / "raw-store.db", sizes["pods"]))
    report["targets"] = verdicts(report)
    print_table(report)
    print(json.dumps(rounded(report)))


if __name__ == "__main__":
    main()
