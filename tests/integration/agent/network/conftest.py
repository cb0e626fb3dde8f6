"""A node network namespace per test and a CniNetwork doing its pod networking inside it."""

from __future__ import annotations

import asyncio
import random
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubelite.agent.network.cni import CniNetwork, netns_name
from kubelite.agent.paths import NodePaths
from tests.support.netns import NetNamespace


@pytest.fixture
def node_netns() -> Iterator[NetNamespace]:
    with NetNamespace("klnode") as ns:
        yield ns


@dataclass
class Node:
    netns: NetNamespace
    paths: NodePaths
    pod_cidr: str
    bridge: str
    uids: list[str] = field(default_factory=list)

    def network(self) -> CniNetwork:
        """A new CniNetwork over the same state, as after an agent restart."""
        return CniNetwork(self.paths, pod_cidr=self.pod_cidr, node_netns=self.netns.name, bridge=self.bridge)

    def uid(self) -> str:
        uid = str(uuid.uuid4())
        self.uids.append(uid)
        return uid


def make_node(netns: NetNamespace, root: Path, prefix: int = 24) -> Node:
    # A subnet and bridge name of its own, so a leak into the host's netns would be recognisable as ours.
    subnet = f"10.{random.randrange(100, 200)}.{random.randrange(256)}.0/{prefix}"
    bridge = f"klb{uuid.uuid4().hex[:8]}"
    paths = NodePaths(root=root / "agent", node_name="n1")
    return Node(netns=netns, paths=paths, pod_cidr=subnet, bridge=bridge)


async def cleanup(node: Node) -> None:
    """Tear down whatever a test left; the node netns (bridge, veths, rules) goes with the NetNamespace."""
    net = node.network()
    try:
        for sandbox in await net.sandboxes():
            await net.teardown(sandbox.pod_uid)
    finally:
        for uid in node.uids:
            command = ["ip", "netns", "delete", netns_name(uid)]
            await asyncio.to_thread(subprocess.run, command, capture_output=True, check=False)


@pytest.fixture
async def node(node_netns: NetNamespace, tmp_path: Path) -> AsyncIterator[Node]:
    made = make_node(node_netns, tmp_path)
    try:
        yield made
    finally:
        await cleanup(made)


@pytest.fixture
async def small_node(node_netns: NetNamespace, tmp_path: Path) -> AsyncIterator[Node]:
    """A /29: five pod addresses besides the gateway."""
    made = make_node(node_netns, tmp_path, prefix=29)
    try:
        yield made
    finally:
        await cleanup(made)
