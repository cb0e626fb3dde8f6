"""A real API server and a real AgentServer on 127.0.0.1, with a Node object pointing at the agent.

The agent's runtime here is HostProcessRuntime, a test double of the Runtime protocol: "containers" are
records the test adds, and exec runs the command as a host process. Port-forward reaches into a network
namespace the test creates (tests.support.netns), as it would reach a pod's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from kubelite.agent.images.store import ImageRecord
from kubelite.agent.network.types import PortMapping, Sandbox
from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime.types import ContainerSpec, ContainerState, ImageConfig, Status
from kubelite.agent.server.app import AgentServer
from tests.integration.apiserver.conftest import RunningServer, start_server, stop_server
from tests.support.netns import NetNamespace


@dataclass
class HostProcessRuntime:
    """Runtime test double: the states are whatever the test put in; exec runs argv on the host."""

    states: dict[str, ContainerState] = field(default_factory=dict)

    async def create_and_start(self, spec: ContainerSpec) -> ContainerState:
        raise NotImplementedError

    async def list(self, pod_uid: str | None = None) -> list[ContainerState]:
        return [s for s in self.states.values() if pod_uid in (None, s.pod_uid)]

    async def state(self, container_id: str) -> ContainerState | None:
        return self.states.get(container_id)

    async def stop(self, container_id: str, grace_seconds: float) -> None:
        raise NotImplementedError

    async def remove(self, container_id: str) -> None:
        self.states.pop(container_id, None)

    def exec_command(
        self, container_id: str, argv: list[str], *, tty: bool, env: dict[str, str]
    ) -> list[str]:
        return list(argv)

    def image_config(self, image: ImageRecord) -> ImageConfig:
        raise NotImplementedError

    async def remove_pod_cgroup(self, pod_uid: str) -> None:
        return None


@dataclass
class StaticNetwork:
    boxes: list[Sandbox] = field(default_factory=list)

    async def setup(self, pod_uid: str, namespace: str, name: str, ports: list[PortMapping]) -> Sandbox:
        raise NotImplementedError

    async def teardown(self, pod_uid: str) -> None:
        raise NotImplementedError

    async def sandboxes(self) -> list[Sandbox]:
        return list(self.boxes)


@dataclass
class Node:
    server: RunningServer
    agent: AgentServer
    runtime: HostProcessRuntime
    network: StaticNetwork
    paths: NodePaths
    core: Any
    netns: NetNamespace

    def add_pod(self, name: str, containers: tuple[str, ...] = ("main",), phase: str = "Running") -> str:
        """A pod bound to this node, its containers running (attempt 0); returns its uid."""
        pod = self.core.create_namespaced_pod(
            "default",
            {
                "metadata": {"name": name},
                "spec": {
                    "nodeName": "n1",
                    "containers": [{"name": c, "image": "busybox"} for c in containers],
                },
            },
        )
        self.core.patch_namespaced_pod_status(name, "default", {"status": {"phase": phase}})
        uid: str = pod.metadata.uid
        for c in containers:
            self.start(name, uid, c, 0)
        self.network.boxes.append(Sandbox(pod_uid=uid, netns_path=self.netns.path, ip="127.0.0.1"))
        return uid

    def start(self, pod: str, uid: str, container: str, attempt: int) -> ContainerState:
        state = ContainerState(
            container_id=f"{uid}_{container}_{attempt}",
            pod_uid=uid,
            pod_namespace="default",
            pod_name=pod,
            name=container,
            attempt=attempt,
            status=Status.RUNNING,
            image_ref="busybox",
            image_id="sha256:0",
            created_at=time.time(),
            started_at=time.time(),
        )
        self.runtime.states[state.container_id] = state
        return state

    def exit(self, state: ContainerState, code: int = 0) -> None:
        self.runtime.states[state.container_id] = replace(state, status=Status.EXITED, exit_code=code)

    def log_path(self, pod: str, uid: str, container: str, attempt: int = 0) -> Path:
        path = self.paths.container_log("default", pod, uid, container, attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    root = tmp_path_factory.mktemp("streams")
    server, thread = start_server(root / "data")
    try:
        with NetNamespace("klstream") as netns:
            paths = NodePaths(root / "agent", f"node-{uuid.uuid4().hex[:6]}")
            runtime, network = HostProcessRuntime(), StaticNetwork()
            agent = AgentServer(
                paths, runtime, network, ca_pem=server.ca_cert.read_bytes(), bind="127.0.0.1", port=0
            )
            server.call(agent.start())
            try:
                core = client.CoreV1Api(server.python_client())
                core.create_node({"metadata": {"name": "n1"}})
                status = {
                    "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": agent.port}},
                }
                core.patch_node_status("n1", {"status": status})
                yield Node(server, agent, runtime, network, paths, core, netns)
            finally:
                server.call(agent.stop())
    finally:
        stop_server(server, thread)
