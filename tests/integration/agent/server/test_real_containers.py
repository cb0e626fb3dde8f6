"""Streams into a real container (crun under conmon, the built-in busybox): kubectl exec and logs, and the
Python client's exec on a tty. The agent runs on the test's loop, kubectl in threads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from kubernetes import client
from kubernetes.stream import stream

from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime.oci import OciRuntime
from kubelite.agent.runtime.types import container_id
from kubelite.agent.server.app import AgentServer
from tests.integration.agent.runtime.conftest import SpecFactory
from tests.integration.agent.runtime.conftest import busybox as busybox
from tests.integration.agent.runtime.conftest import make_spec as make_spec
from tests.integration.agent.runtime.conftest import node_paths as node_paths
from tests.integration.agent.runtime.conftest import prepared_host as prepared_host
from tests.integration.agent.runtime.conftest import runtime as runtime
from tests.integration.agent.runtime.conftest import runtimes as runtimes
from tests.integration.agent.server.conftest import StaticNetwork
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.apiserver.conftest import apiserver as apiserver


@pytest.fixture
async def agent(apiserver: RunningServer, node_paths: NodePaths, runtime: OciRuntime) -> AsyncIterator[Any]:
    server = AgentServer(
        node_paths, runtime, StaticNetwork(), ca_pem=apiserver.ca_cert.read_bytes(), bind="127.0.0.1", port=0
    )
    await server.start()
    try:
        core = client.CoreV1Api(apiserver.python_client())
        await asyncio.to_thread(core.create_node, {"metadata": {"name": "n1"}})
        status = {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": server.port}},
        }
        await asyncio.to_thread(core.patch_node_status, "n1", {"status": status})
        yield core
    finally:
        await server.stop()


async def test_exec_and_logs_in_a_real_container(
    apiserver: RunningServer, agent: Any, runtime: OciRuntime, make_spec: SpecFactory, node_paths: NodePaths
) -> None:
    core = agent
    pod = {
        "metadata": {"name": "real"},
        "spec": {"nodeName": "n1", "containers": [{"name": "main", "image": "x"}]},
    }
    uid = (await asyncio.to_thread(core.create_namespaced_pod, "default", pod)).metadata.uid
    await asyncio.to_thread(
        core.patch_namespaced_pod_status, "real", "default", {"status": {"phase": "Running"}}
    )
    spec = replace(
        make_spec("sh", "-c", "echo started; echo to-err >&2; exec sleep 300"),
        container_id=container_id(uid, "main", 0),
        pod_uid=uid,
        pod_name="real",
        log_path=node_paths.container_log("default", "real", uid, "main", 0),
        cgroup_parent=node_paths.pod_cgroup(uid),
    )
    await runtime.create_and_start(spec)

    def kubectl(*args: str, **kw: Any) -> Any:
        return asyncio.to_thread(apiserver.kubectl, *args, **kw)

    assert (await kubectl("exec", "real", "--", "hostname")).stdout.strip() == "p"
    piped = await kubectl(
        "exec", "-i", "real", "--", "sh", "-c", "read x; echo in-container:$x", input="hi\n"
    )
    assert piped.stdout == "in-container:hi\n"
    failed = await kubectl("exec", "real", "--", "sh", "-c", "exit 3", check=False)
    assert failed.returncode == 3

    def tty_exec() -> tuple[str, int]:
        resp = stream(
            core.connect_get_namespaced_pod_exec,
            "real",
            "default",
            command=["sh", "-c", "tty && stty size"],
            stdin=True,
            stdout=True,
            stderr=True,
            tty=True,
            _preload_content=False,
        )
        try:
            resp.write_channel(4, '{"Width":91,"Height":17}')
            time.sleep(0.3)
            resp.run_forever(timeout=20)
            return resp.read_stdout(), resp.returncode
        finally:
            resp.close()
            resp.sock.shutdown()

    out, code = await asyncio.to_thread(tty_exec)
    assert code == 0 and out.replace("\r", "").split("\n")[0].startswith("/dev/")

    for _ in range(50):
        logs = await kubectl("logs", "real")
        if logs.stdout.count("\n") >= 2:
            break
        await asyncio.sleep(0.1)
    assert sorted(logs.stdout.splitlines()) == ["started", "to-err"]
    assert (await kubectl("logs", "real", "--tail=1", "--timestamps")).stdout.split(" ", 1)[0].endswith("Z")


async def test_attach_to_a_real_containers_stdio(
    apiserver: RunningServer, agent: Any, runtime: OciRuntime, make_spec: SpecFactory, node_paths: NodePaths
) -> None:
    core = agent

    async def start(name: str, script: str) -> None:
        container = {"name": "main", "image": "x", "stdin": True, "stdinOnce": True}
        pod = {"metadata": {"name": name}, "spec": {"nodeName": "n1", "containers": [container]}}
        uid = (await asyncio.to_thread(core.create_namespaced_pod, "default", pod)).metadata.uid
        running = {"status": {"phase": "Running"}}
        await asyncio.to_thread(core.patch_namespaced_pod_status, name, "default", running)
        spec = replace(
            make_spec("sh", "-c", script),
            container_id=container_id(uid, "main", 0),
            pod_uid=uid,
            pod_name=name,
            log_path=node_paths.container_log("default", name, uid, "main", 0),
            cgroup_parent=node_paths.pod_cgroup(uid),
            stdin=True,
            stdin_once=True,
        )
        await runtime.create_and_start(spec)

    await start("once", "read line; echo got:$line; echo bye >&2")
    attached = await asyncio.to_thread(apiserver.kubectl, "attach", "-i", "once", input="hello\n", timeout=30)
    assert "got:hello" in attached.stdout and "bye" in attached.stderr

    await start("loop", "while read line; do echo echo:$line; done")

    def python_attach() -> str:
        resp = stream(
            core.connect_get_namespaced_pod_attach,
            "loop",
            "default",
            stdin=True,
            stdout=True,
            stderr=True,
            tty=False,
            _preload_content=False,
        )
        try:
            resp.write_stdin("one\n")
            out = ""
            deadline = time.monotonic() + 10
            while "echo:one" not in out and time.monotonic() < deadline:
                resp.update(timeout=1)
                out += resp.read_stdout(timeout=0) or ""
            return out
        finally:
            resp.close()
            resp.sock.shutdown()

    assert "echo:one" in await asyncio.to_thread(python_attach)
