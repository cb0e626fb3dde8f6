"""A real pod loop: the API server, crun under conmon, the CNI plugins inside a test netns, real volumes.

Each test gets a node of its own (netns, data dir, cgroup tree, namespace); everything it started is removed
afterwards even when the test failed: containers, sandboxes, mounts, cgroups, the netns.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.hostprep import prepare_host_sync
from kubelite.agent.images.builtin import ensure_builtin_busybox
from kubelite.agent.images.registry import RegistryClient
from kubelite.agent.images.store import ImageStore
from kubelite.agent.network.cni import CniNetwork
from kubelite.agent.paths import NodePaths
from kubelite.agent.pods.probes import ProbeKey, Prober, ProbeResult
from kubelite.agent.pods.sync import PodSyncer
from kubelite.agent.pods.types import PodOptions
from kubelite.agent.pods.wiring import real_helpers
from kubelite.agent.pods.workers import PodWorkers
from kubelite.agent.runtime import cgroups
from kubelite.agent.runtime.oci import OciRuntime
from kubelite.agent.volumes import sysmount
from kubelite.agent.volumes.manager import Volumes
from kubelite.client import errors, kubeconfig, paths
from kubelite.client.events import EventRecorder
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import JSON, RestClient
from tests.integration.apiserver.conftest import RunningServer, start_server, stop_server
from tests.support.netns import NetNamespace

PODS = paths.resource("", "v1", "pods")
NAMESPACES = paths.resource("", "v1", "namespaces")
EVENTS = paths.resource("", "v1", "events")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    prepare_host_sync()
    running, thread = start_server(tmp_path_factory.mktemp("pods-api") / "data")
    try:
        yield running
    finally:
        stop_server(running, thread)


@dataclass
class Agent:
    """One node agent's pod loop; stop() and start() again to restart it over the same node directory."""

    client: RestClient
    paths: NodePaths
    netns: NetNamespace
    pod_cidr: str
    bridge: str
    options: PodOptions
    namespace: str
    server: RunningServer
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    runtime: OciRuntime | None = None
    workers: PodWorkers | None = None
    prober: Prober | None = None
    registry: RegistryClient | None = None  # None: only the built-in busybox, nothing is pulled

    def network(self) -> CniNetwork:
        return CniNetwork(self.paths, pod_cidr=self.pod_cidr, node_netns=self.netns.name, bridge=self.bridge)

    async def start(self) -> None:
        store = ImageStore(self.paths.images, registry=self.registry)
        await ensure_builtin_busybox(store)
        runtime = self.runtime = OciRuntime(self.paths, store)
        informers = InformerFactory(self.client)
        recorder = EventRecorder(self.client, component="kubelet", host=self.paths.node_name)

        def on_result(key: ProbeKey, result: ProbeResult) -> None:
            assert self.workers is not None
            self.workers.probe_result(key, result)

        self.prober = Prober(runtime, on_result=on_result)
        syncer = PodSyncer(
            self.client,
            paths=self.paths,
            runtime=runtime,
            network=self.network(),
            volumes=Volumes(self.paths, self.client),
            images=store,
            prober=self.prober,
            recorder=recorder,
            options=self.options,
            helpers=real_helpers(self.client, runtime, self.paths, cluster_dns=["10.96.0.10"]),
        )
        self.workers = PodWorkers(informers, syncer, node_name=self.paths.node_name)
        for coroutine in (informers.run(), recorder.run(), self.workers.run()):
            self.tasks.append(asyncio.create_task(coroutine))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        if self.prober is not None:
            await self.prober.close()

    async def create(self, name: str, *containers: JSON, **spec: Any) -> JSON:
        pod = {
            "metadata": {"name": name},
            "spec": {
                "nodeName": self.paths.node_name,
                "containers": list(containers),
                "terminationGracePeriodSeconds": 2,
                **spec,
            },
        }
        return await self.client.create(PODS, pod, namespace=self.namespace)

    async def get(self, name: str) -> JSON:
        return await self.client.get(PODS, name, namespace=self.namespace)

    async def wait_for(self, name: str, check: Callable[[JSON], bool], within: float = 30) -> JSON:
        deadline = time.monotonic() + within
        pod: JSON = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(errors.NotFound):
                pod = await self.get(name)
                if check(pod):
                    return pod
            await asyncio.sleep(0.1)
        raise AssertionError(f"pod {name} never got there; last seen: {pod.get('status')}")

    async def gone(self, name: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                await self.get(name)
            except errors.NotFound:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"pod {name} is still there")

    async def kubectl(self, *args: str) -> str:
        done = await asyncio.to_thread(self.server.kubectl, *args, "-n", self.namespace)
        return done.stdout

    async def events(self) -> list[JSON]:
        listed = await self.client.list(EVENTS, namespace=self.namespace)
        return list(listed["items"])


async def _clean(agent: Agent) -> None:
    await agent.stop()
    runtime = agent.runtime
    if runtime is not None:
        for state in await runtime.list():
            with contextlib.suppress(Exception):
                await runtime.stop(state.container_id, 0)
            await runtime.remove(state.container_id)
    network = agent.network()
    for sandbox in await network.sandboxes():
        await network.teardown(sandbox.pod_uid)
    for point in reversed(sysmount.mount_points_under(agent.paths.root)):
        sysmount.unmount(point)
    await asyncio.to_thread(cgroups.remove, agent.paths.cgroup_root)


@pytest.fixture
async def agent(server: RunningServer, tmp_path: Path) -> AsyncIterator[Agent]:
    """A started agent on a fresh node; `agent.options` may be replaced before `await agent.start()`."""
    async with RestClient(kubeconfig.load(server.kubeconfig)) as client:
        namespace = f"pods-{uuid.uuid4().hex[:8]}"
        await client.create(NAMESPACES, {"metadata": {"name": namespace}})
        with NetNamespace("klpod") as netns:
            made = Agent(
                client=client,
                paths=NodePaths(tmp_path / "agent", f"pn-{uuid.uuid4().hex[:8]}"),
                netns=netns,
                pod_cidr=f"10.{random.randrange(100, 200)}.{random.randrange(256)}.0/24",
                bridge=f"klb{uuid.uuid4().hex[:8]}",
                options=PodOptions(node_ip="127.0.0.1", poll_seconds=0.2, backoff_initial=1, backoff_cap=4),
                namespace=namespace,
                server=server,
            )
            try:
                await made.start()
                yield made
            finally:
                await _clean(made)
