"""Probes and hooks reach into a pod's network namespace: busybox httpd listens on the "pod IP" inside a
namespace the test made, which the host cannot reach; the prober connects from inside (nsconnect)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.pods.hooks import run_hook
from kubelite.agent.pods.probes import Outcome, ProbeKey, Prober, ProbeResult, ProbeSpec, Target, run_probe
from tests.support.netns import NetNamespace

POD_IP = "10.250.0.5"


class NoExecDouble:
    """These tests only use network probes."""

    async def exec_capture(self, container_id: str, argv: list[str], seconds: float) -> tuple[int, str]:
        raise AssertionError("no exec expected")


# A gRPC health server (SERVING) for the pod's namespace, run with this interpreter.
GRPC_SERVER = """
import asyncio, sys, grpc, grpc.aio
async def check(request, context):
    return b"\\x08\\x01"
async def main():
    handler = grpc.method_handlers_generic_handler(
        "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)})
    server = grpc.aio.server(handlers=[handler])
    server.add_insecure_port(sys.argv[1])
    await server.start()
    await server.wait_for_termination()
asyncio.run(main())
"""


def wait_listening(netns: NetNamespace, port: int) -> None:
    deadline = time.monotonic() + 10
    while f":{port} " not in netns.run("ss", "-ltn").stdout:
        assert time.monotonic() < deadline, f"nothing listens on {port}"
        time.sleep(0.02)


@dataclass
class PodNet:
    netns: NetNamespace
    port: int


@pytest.fixture
def pod_net(tmp_path: Path) -> Iterator[PodNet]:
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "healthz").write_text("ok\n")
    with NetNamespace("klprobe") as netns:
        netns.run("ip", "addr", "add", f"{POD_IP}/32", "dev", "lo")  # the "pod IP", only inside
        httpd = ["busybox", "httpd", "-f", "-p", f"{POD_IP}:8080", "-h", str(tmp_path / "www")]
        grpc_server = [sys.executable, "-c", GRPC_SERVER, f"{POD_IP}:9090"]
        servers = [
            subprocess.Popen(
                ["ip", "netns", "exec", netns.name, *command],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for command in (httpd, grpc_server)
        ]
        try:
            wait_listening(netns, 8080)
            wait_listening(netns, 9090)
            yield PodNet(netns, 8080)
        finally:
            for server in servers:
                server.kill()
                server.wait()


async def probe(net: PodNet, action: dict[str, object]) -> Outcome:
    spec = ProbeSpec.from_json({**action, "timeoutSeconds": 1})
    target = Target(
        "cid", {"name": "c", "ports": [{"name": "http", "containerPort": net.port}]}, net.netns.path, POD_IP
    )
    return await run_probe(NoExecDouble(), spec, target)


async def test_http_and_tcp_probes_inside_the_pod_netns(pod_net: PodNet) -> None:
    assert await probe(pod_net, {"httpGet": {"path": "/healthz", "port": "http"}}) == Outcome(
        "success", "ok\n"
    )
    missing = await probe(pod_net, {"httpGet": {"path": "/nope", "port": 8080}})
    assert missing == Outcome("failure", "HTTP probe failed with statuscode: 404")
    assert await probe(pod_net, {"tcpSocket": {"port": 8080}}) == Outcome("success", "")
    refused = await probe(pod_net, {"tcpSocket": {"port": 8081}})
    assert refused == Outcome("failure", f"dial tcp {POD_IP}:8081: connect: connection refused")
    assert await probe(pod_net, {"grpc": {"port": 9090}}) == Outcome("success", "service healthy")


async def test_prober_marks_ready_and_hooks_reach_the_pod(pod_net: PodNet) -> None:
    results: list[tuple[ProbeKey, ProbeResult]] = []
    prober = Prober(NoExecDouble(), on_result=lambda key, result: results.append((key, result)))
    container = {
        "name": "web",
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1},
    }
    pod = {"metadata": {"uid": "u1", "name": "p", "namespace": "ns"}, "spec": {"containers": [container]}}
    try:
        prober.update(pod, "web", "cid-1", pod_net.netns.path, POD_IP, time.time())
        deadline = time.monotonic() + 5
        while not prober.ready("u1", "web"):
            assert time.monotonic() < deadline, f"never ready: {results}"
            await asyncio.sleep(0.02)
        assert [r.changed for _, r in results] == [True]
    finally:
        await prober.close()
    hook = {"httpGet": {"path": "/healthz", "port": 8080}}
    options: dict[str, Any] = {
        "container_id": "cid-1",
        "netns_path": pod_net.netns.path,
        "pod_ip": POD_IP,
        "timeout": 2.0,
    }
    assert await run_hook(NoExecDouble(), hook, **options) is None
    assert await run_hook(NoExecDouble(), {"httpGet": {"port": 8081}}, **options) is not None
