"""Simulated nodes (kwok-like): many nodes from one process, each as real to the API server as a kubelet's.

`run(config)` registers N nodes (`<prefix>-0` .. `<prefix>-N-1`) with the capacity, labels and taints asked
for, a Ready condition and addresses; renews each node's Lease in kube-node-lease every `lease_interval`
(concurrently, a bounded number at a time) and refreshes node status every 5 minutes, as a kubelet does;
and hands the pods bound to these nodes to `fakepods`, which plays their lifecycle.

Fake nodes advertise `node_ip` (127.0.0.1 by default) as their address, so anything that tries to reach a
fake node's kubelet stays on this machine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.agent.fakepods import FakePods, PodTiming
from kubelite.agent.node import NODES, NodeLease, node_conditions, now
from kubelite.api.version import KUBELET_VERSION
from kubelite.client import errors, kubeconfig
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import JSON, RestClient

log = logging.getLogger(__name__)

STATUS_REPORT_INTERVAL = 300.0  # a kubelet re-posts unchanged node status this often
DEFAULT_CAPACITY = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "100Gi"}


@dataclass(frozen=True)
class FakeAgentConfig:
    client_config: kubeconfig.KubeConfig
    nodes: int = 1
    node_name_prefix: str = "fake-node"
    capacity: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[dict[str, str], ...] = ()
    architecture: str = "amd64"
    node_ip: str = "127.0.0.1"
    lease_interval: float = 10.0
    job_duration: float = 1.0  # how long a Job's pod "runs" before it succeeds (or fails)
    concurrency: int = 32  # requests in flight at once (node writes, lease renewals, pod status writes)


def parse_taint(text: str) -> dict[str, str]:
    """`key[=value]:Effect`, as `kubectl taint` spells it."""
    spec, colon, effect = text.rpartition(":")
    if not colon or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
        raise ValueError(f"taint {text!r}: want key[=value]:NoSchedule|PreferNoSchedule|NoExecute")
    key, _, value = spec.partition("=")
    return {"key": key, "effect": effect, **({"value": value} if value else {})}


class FakeAgent:
    def __init__(self, client: RestClient, config: FakeAgentConfig) -> None:
        self.client = client
        self.config = config
        self.names = [f"{config.node_name_prefix}-{i}" for i in range(config.nodes)]
        self._limit = asyncio.Semaphore(config.concurrency)
        self._leases = {name: NodeLease(client, name) for name in self.names}
        self.informers = InformerFactory(client, drop_managed_fields=True)
        self.pods = FakePods(
            client,
            self.informers,
            node_names=self.names,
            node_ip=config.node_ip,
            timing=PodTiming(job_duration=config.job_duration),
            concurrency=config.concurrency,
        )

    def node_object(self, name: str) -> JSON:
        config = self.config
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": config.architecture,
            "type": "kwok",
            **config.labels,
        }
        spec: JSON = {"taints": [dict(t) for t in config.taints]} if config.taints else {}
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            },
            "spec": spec,
            "status": self.node_status(name),
        }

    def node_status(self, name: str) -> JSON:
        return {
            "capacity": dict(self.config.capacity),
            "allocatable": dict(self.config.capacity),
            "conditions": node_conditions([], at=now()),
            "addresses": [
                {"type": "InternalIP", "address": self.config.node_ip},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": name,
                "systemUUID": name,
                "bootID": name,
                "kernelVersion": "fake",
                "osImage": "kubelite fake node",
                "containerRuntimeVersion": "fake://1.0",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": self.config.architecture,
            },
        }

    async def _each_node(self, action: Callable[[str], Awaitable[None]]) -> None:
        """`action(name)` for every node, at most `concurrency` at a time."""

        async def one(name: str) -> None:
            async with self._limit:
                await action(name)

        await asyncio.gather(*(one(name) for name in self.names))

    async def register(self) -> None:
        """Create every node (or, when it exists, post its status), then its Lease."""
        await self._each_node(self._register_one)
        log.info("fake agent: %d nodes registered", len(self.names))

    async def _register_one(self, name: str) -> None:
        try:
            node = await self.client.create(NODES, self.node_object(name))
        except errors.AlreadyExists:  # a restarted agent: the node is ours again, with fresh status
            node = await self.client.get(NODES, name)
            await self.report_status(name)
        else:
            if not (node.get("status") or {}).get("conditions"):  # the server dropped status on create
                await self.report_status(name)
        await self._renew_lease(name, node)

    async def report_status(self, name: str) -> None:
        await self.client.patch(NODES, name, {"status": self.node_status(name)}, subresource="status")

    async def _renew_lease(self, name: str, node: JSON | None = None) -> None:
        await self._leases[name].renew(node)

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        last_report = loop.time()
        while True:
            await asyncio.sleep(self.config.lease_interval)
            await self._each_node(self._renew_lease)
            if loop.time() - last_report >= STATUS_REPORT_INTERVAL:
                last_report = loop.time()
                await self._each_node(self._report_quietly)

    async def _report_quietly(self, name: str) -> None:
        try:
            await self.report_status(name)
        except errors.ClientError as exc:
            log.warning("fake node %s: cannot post status: %s", name, exc)

    async def run(self) -> None:
        """Register, then keep the nodes alive and their pods moving until cancelled."""
        await self.register()
        async with asyncio.TaskGroup() as group:
            group.create_task(self.informers.run(), name="fake agent informers")
            group.create_task(self.pods.run(), name="fake agent pods")
            group.create_task(self._heartbeat(), name="fake agent heartbeat")


async def run(config: FakeAgentConfig) -> None:
    options: dict[str, Any] = {"user_agent": "kubelite-fake-agent", "max_connections": config.concurrency + 8}
    async with RestClient(config.client_config, **options) as client:
        await FakeAgent(client, config).run()


def client_config(
    *,
    kubeconfig_path: Path | None,
    server: str,
    token_file: Path | None,
    ca_file: Path | None,
    token: str = "",
) -> kubeconfig.KubeConfig:
    """A kubeconfig file, or a server URL with a token (or token file) and the cluster CA to trust."""
    if kubeconfig_path is not None:
        return kubeconfig.load(kubeconfig_path)
    if not server or (token_file is None and not token):
        raise kubeconfig.KubeConfigError("give --kubeconfig, or --server with --token or --token-file")
    ca = ca_file.read_bytes() if ca_file is not None else None
    if token:
        return kubeconfig.KubeConfig(server=server.rstrip("/"), ca_data=ca, token=token)
    return kubeconfig.KubeConfig(server=server.rstrip("/"), ca_data=ca, token_file=token_file)
