"""Probes and lifecycle hooks: thresholds, startup gating, and upstream's messages for exec, HTTP and TCP.

Exec runs through HostExecDouble, whose exec_capture runs the command on the host; HTTP and TCP go to an
aiohttp server / closed ports on 127.0.0.1 (no netns: the hostNetwork path).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import grpc.aio  # type: ignore[import-untyped]
import pytest
from aiohttp import web

from kubelite.agent.pods.grpcprobe import decode_status, encode_request
from kubelite.agent.pods.hooks import run_hook
from kubelite.agent.pods.probes import (
    Outcome,
    ProbeKey,
    ProbeKind,
    Prober,
    ProbeResult,
    ProbeSpec,
    Target,
    run_probe,
)
from kubelite.agent.server.certs import ensure_serving_cert


class HostExecDouble:
    """exec_capture runs argv on the host (the container ID is ignored); records every call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def exec_capture(self, container_id: str, argv: list[str], seconds: float) -> tuple[int, str]:
        self.calls.append(argv)
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), seconds)
        except (TimeoutError, asyncio.CancelledError):  # a stopped probe leaves nothing running
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
            raise
        return proc.returncode or 0, output.decode()


def pod(container: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"uid": "uid-1", "name": "p", "namespace": "ns"}, "spec": {"containers": [container]}}


def exec_probe(path: Path, **timing: float) -> dict[str, Any]:
    return {"exec": {"command": ["test", "-e", str(path)]}, "periodSeconds": 0.05, **timing}


async def until(condition: Any, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def prober() -> AsyncIterator[tuple[Prober, list[tuple[ProbeKey, ProbeResult]], HostExecDouble]]:
    results: list[tuple[ProbeKey, ProbeResult]] = []
    runtime = HostExecDouble()
    prober = Prober(runtime, on_result=lambda key, result: results.append((key, result)))
    try:
        yield prober, results, runtime
    finally:
        await prober.close()


async def test_readiness_flips_only_after_the_thresholds(prober: Any, tmp_path: Path) -> None:
    probe_obj, results, _ = prober
    flag = tmp_path / "ready"
    spec = {"name": "c", "readinessProbe": exec_probe(flag, successThreshold=2, failureThreshold=2)}
    probe_obj.update(pod(spec), "c", "cid-1", None, "127.0.0.1", time.time())
    assert not probe_obj.ready("uid-1", "c") and probe_obj.started("uid-1", "c")
    await until(lambda: len(results) >= 2)
    assert all(not r.changed and r.event_message.startswith("Readiness probe failed") for _, r in results)
    flag.touch()
    await until(lambda: probe_obj.ready("uid-1", "c"))
    flips = [r for _, r in results if r.changed]
    assert [(f.healthy, f.container_id) for f in flips] == [(True, "cid-1")]
    flag.unlink()
    await until(lambda: not probe_obj.ready("uid-1", "c"))
    failures_before_flip = [r for _, r in results if r.event_reason == "Unhealthy"]
    assert failures_before_flip[-1].changed and failures_before_flip[-2].healthy is True


async def test_liveness_failure_is_reported_once_and_then_holds(prober: Any, tmp_path: Path) -> None:
    probe_obj, results, runtime = prober
    spec = {"name": "c", "livenessProbe": exec_probe(tmp_path / "absent", failureThreshold=3)}
    probe_obj.update(pod(spec), "c", "cid-1", None, "127.0.0.1", time.time())
    await until(lambda: any(r.changed for _, r in results))
    await asyncio.sleep(0.2)
    assert len(runtime.calls) == 3  # on hold once it failed
    key, last = results[-1]
    assert key == ProbeKey("uid-1", "c", ProbeKind.LIVENESS)
    assert last.healthy is False and last.changed and last.event_message == "Liveness probe failed: "
    assert [r.healthy for _, r in results[:2]] == [True, True]  # below the threshold: still alive
    # A restarted container (new ID) is probed afresh.
    (tmp_path / "absent").touch()
    probe_obj.update(pod(spec), "c", "cid-2", None, "127.0.0.1", time.time())
    await until(lambda: len(runtime.calls) >= 5)
    assert all(r.container_id == "cid-1" for _, r in results)


async def test_startup_probe_gates_the_others(prober: Any, tmp_path: Path) -> None:
    probe_obj, results, runtime = prober
    started, ready = tmp_path / "started", tmp_path / "ready"
    ready.touch()
    spec = {
        "name": "c",
        "startupProbe": exec_probe(started, failureThreshold=100),
        "readinessProbe": exec_probe(ready),
    }
    probe_obj.update(pod(spec), "c", "cid-1", None, "127.0.0.1", time.time())
    await until(lambda: len(runtime.calls) >= 3)
    assert {argv[-1] for argv in runtime.calls} == {str(started)}
    assert not probe_obj.started("uid-1", "c") and not probe_obj.ready("uid-1", "c")
    started.touch()
    await until(lambda: probe_obj.ready("uid-1", "c"))
    assert probe_obj.started("uid-1", "c")
    kinds = [(k.kind, r.healthy) for k, r in results if r.changed]
    assert kinds == [(ProbeKind.STARTUP, True), (ProbeKind.READINESS, True)]
    calls = len([a for a in runtime.calls if a[-1] == str(started)])
    await asyncio.sleep(0.15)
    assert len([a for a in runtime.calls if a[-1] == str(started)]) == calls  # startup probing has stopped


async def test_initial_delay_counts_from_the_start_and_forget_stops(prober: Any, tmp_path: Path) -> None:
    probe_obj, _, runtime = prober
    spec = {"name": "c", "readinessProbe": exec_probe(tmp_path / "x", initialDelaySeconds=0.3)}
    probe_obj.update(pod(spec), "c", "cid-1", None, "127.0.0.1", time.time() - 0.2)
    await asyncio.sleep(0.05)
    assert runtime.calls == []
    await until(lambda: runtime.calls)
    probe_obj.forget("cid-1")
    count = len(runtime.calls)
    await asyncio.sleep(0.15)
    assert len(runtime.calls) == count and not probe_obj.ready("uid-1", "c")


def target(container: dict[str, Any] | None = None) -> Target:
    return Target("cid", container or {"name": "c"}, None, "127.0.0.1")


async def probe(action: dict[str, Any], container: dict[str, Any] | None = None) -> Outcome:
    spec = ProbeSpec.from_json({**action, "timeoutSeconds": 0.5})
    return await run_probe(HostExecDouble(), spec, target(container))


async def test_exec_probe_output_and_timeout() -> None:
    assert await probe({"exec": {"command": ["sh", "-c", "echo fine"]}}) == Outcome("success", "fine\n")
    assert await probe({"exec": {"command": ["sh", "-c", "echo bad; exit 2"]}}) == Outcome("failure", "bad\n")
    slow = await probe({"exec": {"command": ["sleep", "5"]}})
    assert slow == Outcome("failure", 'command "sleep 5" timed out')


@pytest.fixture
async def http_server() -> AsyncIterator[tuple[int, list[web.Request]]]:
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        match request.path:
            case "/ok":
                return web.Response(text="all good")
            case "/fail":
                return web.Response(status=500, text="broken")
            case "/same":
                raise web.HTTPFound("/ok")
            case "/elsewhere":
                raise web.HTTPFound(f"http://127.0.0.2:{request.url.port}/ok", text="moved")
            case "/loop":
                raise web.HTTPFound("/loop")
            case _:
                await asyncio.sleep(1)
                return web.Response()

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield port, seen
    finally:
        await runner.cleanup()


async def test_http_probe_status_mapping(http_server: tuple[int, list[web.Request]]) -> None:
    port, seen = http_server
    assert await probe({"httpGet": {"path": "/ok", "port": port}}) == Outcome("success", "all good")
    assert seen[0].headers["User-Agent"] == "kube-probe/1.32"
    assert await probe({"httpGet": {"path": "/fail", "port": port}}) == Outcome(
        "failure", "HTTP probe failed with statuscode: 500"
    )
    assert await probe({"httpGet": {"path": "/same", "port": port}}) == Outcome("success", "all good")
    assert seen[-1].path == "/ok"
    elsewhere = await probe({"httpGet": {"path": "/elsewhere", "port": port}})
    assert elsewhere.status == "warning"
    assert elsewhere.output.startswith("Probe terminated redirects, Response body: ")
    url = f"http://127.0.0.1:{port}/loop"
    assert await probe({"httpGet": {"path": "/loop", "port": port}}) == Outcome(
        "failure", f'Get "{url}": stopped after 10 redirects'
    )
    slow = await probe({"httpGet": {"path": "/slow", "port": port}})
    assert slow.output == (
        f'Get "http://127.0.0.1:{port}/slow": context deadline exceeded '
        "(Client.Timeout exceeded while awaiting headers)"
    )


async def test_http_probe_headers_and_named_ports(http_server: tuple[int, list[web.Request]]) -> None:
    port, seen = http_server
    container = {"name": "c", "ports": [{"name": "web", "containerPort": port}]}
    headers = [{"name": "X-Custom", "value": "1"}, {"name": "Host", "value": "example.test"}]
    action = {"httpGet": {"path": "ok", "port": "web", "httpHeaders": headers}}
    assert (await probe(action, container)).status == "success"
    assert seen[-1].headers["X-Custom"] == "1" and seen[-1].headers["Host"] == "example.test"
    missing = await probe({"httpGet": {"port": "nope"}}, container)
    assert missing == Outcome("error", "couldn't find port: nope in c")


async def test_https_probe_skips_verification_and_hooks_fall_back_to_http(
    http_server: tuple[int, list[web.Request]], tmp_path: Path
) -> None:
    cert, key = await asyncio.to_thread(ensure_serving_cert, tmp_path, "probe-test", ["127.0.0.1"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def secure(_: web.Request) -> web.Response:
        return web.Response(text="secure")

    app = web.Application()
    app.router.add_get("/", secure)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        tls_port = runner.addresses[0][1]
        assert await probe({"httpGet": {"scheme": "HTTPS", "port": tls_port}}) == Outcome("success", "secure")
    finally:
        await runner.cleanup()
    port, seen = http_server
    plain = await probe({"httpGet": {"scheme": "HTTPS", "path": "/ok", "port": port}})
    assert plain == Outcome(
        "failure", f'Get "https://127.0.0.1:{port}/ok": http: server gave HTTP response to HTTPS client'
    )
    hook = {"httpGet": {"scheme": "HTTPS", "path": "/ok", "port": port}}
    options: dict[str, Any] = {"container_id": "c", "netns_path": None, "pod_ip": "127.0.0.1", "timeout": 1.0}
    assert await run_hook(HostExecDouble(), hook, **options) is None
    assert seen[-1].path == "/ok"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_tcp_probe_and_refused_messages(http_server: tuple[int, list[web.Request]]) -> None:
    port, _ = http_server
    assert await probe({"tcpSocket": {"port": port}}) == Outcome("success", "")
    closed = closed_port()
    refused = f"dial tcp 127.0.0.1:{closed}: connect: connection refused"
    assert await probe({"tcpSocket": {"port": closed}}) == Outcome("failure", refused)
    http = await probe({"httpGet": {"port": closed}})
    assert http == Outcome("failure", f'Get "http://127.0.0.1:{closed}/": {refused}')


async def test_probe_events_carry_upstream_messages(prober: Any) -> None:
    probe_obj, results, _ = prober
    closed = closed_port()
    readiness = {"tcpSocket": {"port": closed}, "periodSeconds": 0.05}
    probe_obj.update(pod({"name": "c", "readinessProbe": readiness}), "c", "cid", None, "127.0.0.1", 0.0)
    await until(lambda: results)
    assert results[0][1].event_reason == "Unhealthy"
    assert results[0][1].event_message == (
        f"Readiness probe failed: dial tcp 127.0.0.1:{closed}: connect: connection refused"
    )


async def test_hooks(http_server: tuple[int, list[web.Request]]) -> None:
    port, seen = http_server
    runtime = HostExecDouble()
    the_pod = pod({"name": "c"})
    options: dict[str, Any] = {
        "container_id": "cid",
        "netns_path": None,
        "pod_ip": "127.0.0.1",
        "timeout": 1.0,
    }
    assert await run_hook(runtime, {"exec": {"command": ["true"]}}, **options) is None
    failed = await run_hook(
        runtime,
        {"exec": {"command": ["sh", "-c", "echo no; exit 1"]}},
        pod=the_pod,
        container={"name": "c"},
        **options,
    )
    assert failed == (
        'Exec lifecycle hook ([sh -c echo no; exit 1]) for Container "c" in Pod "p_ns(uid-1)" failed - '
        "error: "
        "command 'sh -c echo no; exit 1' exited with 1: , message: \"no\\n\""
    )
    assert await run_hook(runtime, {"httpGet": {"path": "/fail", "port": port}}, **options) is None
    assert seen[-1].headers["User-Agent"] == "kube-lifecycle/1.32"
    closed = closed_port()
    refused = await run_hook(
        runtime, {"httpGet": {"path": "/x", "port": closed}}, pod=the_pod, container={"name": "c"}, **options
    )
    assert refused == (
        'HTTP lifecycle hook (/x) for Container "c" in Pod "p_ns(uid-1)" failed - error: '
        f'Get "http://127.0.0.1:{closed}/x": dial tcp 127.0.0.1:{closed}: connect: connection refused'
    )
    begin = time.monotonic()
    assert await run_hook(runtime, {"sleep": {"seconds": 30}}, **{**options, "timeout": 0.1}) is None
    assert time.monotonic() - begin < 1


@pytest.fixture
async def grpc_server() -> AsyncIterator[int]:
    """A gRPC server whose health service says SERVING for "" and NOT_SERVING for anything else; it also
    serves no other service, so other paths answer UNIMPLEMENTED."""

    async def check(request: bytes, context: Any) -> bytes:
        service = request[2:].decode()
        return b"\x08\x01" if not service else b"\x08\x02"

    handler = grpc.method_handlers_generic_handler(
        "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)}
    )
    server = grpc.aio.server(handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(None)


async def test_grpc_probe(grpc_server: int, http_server: tuple[int, list[web.Request]]) -> None:
    assert encode_request("db") == b"\x0a\x02db" and decode_status(b"\x08\x02") == 2
    assert await probe({"grpc": {"port": grpc_server}}) == Outcome("success", "service healthy")
    unhealthy = await probe({"grpc": {"port": grpc_server, "service": "db"}})
    assert unhealthy == Outcome("failure", 'service unhealthy (responded with "NOT_SERVING")')
    closed = closed_port()
    refused = await probe({"grpc": {"port": closed}})
    assert refused == Outcome(
        "failure",
        f'timeout: failed to connect service "127.0.0.1:{closed}" within 500ms: context deadline exceeded',
    )
    other = grpc.aio.server(handlers=[grpc.method_handlers_generic_handler("other.Service", {})])
    other_port = other.add_insecure_port("127.0.0.1:0")
    await other.start()
    try:
        unimplemented = await probe({"grpc": {"port": other_port}})
    finally:
        await other.stop(None)
    assert unimplemented.output.startswith(
        "this server does not implement the grpc health protocol (grpc.health.v1.Health): "
    )
    not_grpc = await probe({"grpc": {"port": http_server[0]}})
    assert not_grpc.status == "failure" and not_grpc.output.startswith("error: health rpc probe failed")
