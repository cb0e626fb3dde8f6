"""The load-balancer announcer against a real API server, in a node netns on a LAN with one peer.

The test writes what the controllers and the agent would (a Ready Node, a LoadBalancer Service with its
ingress IP, an EndpointSlice); the announcer must put the address on the node's LAN interface, re-point the
peer's neighbour entry with gratuitous ARP, and take the address off when the node stops qualifying and when
it stops.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.network.nsconnect import socket_in_netns
from kubelite.client import kubeconfig, paths
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.proxy.announce import ENDPOINTSLICES, NODES, SERVICES, Announcer
from tests.integration.apiserver.conftest import RunningServer, start_server, stop_server
from tests.support.netns import NetNamespace

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)")

EVENTS = paths.resource("", "v1", "events")
NODE_IP, PEER_IP, LB_IP, STALE_IP = "192.168.88.2", "192.168.88.9", "192.168.88.200", "192.168.88.250"


@dataclass
class Lan:
    node: NetNamespace
    peer: NetNamespace
    other: NetNamespace  # on a second interface of the node's, another LAN

    def announced(self) -> str:
        return self.node.run("ip", "-o", "-4", "addr", "show", "label", "*:kllb").stdout

    def node_mac(self) -> str:
        return self.node.run("ip", "-o", "link", "show", "eth0").stdout.split("link/ether ")[1].split()[0]

    def peer_entry(self) -> str:
        return self.peer.run("ip", "neigh", "show", LB_IP, "dev", "eth0").stdout


@pytest.fixture
def lan() -> Iterator[Lan]:
    with NetNamespace("klann") as node, NetNamespace("klpeer") as peer, NetNamespace("klother") as other:
        node.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", peer.name)
        node.run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", other.name)
        for netns, device, ip in (
            (node, "eth0", NODE_IP),
            (peer, "eth0", PEER_IP),
            (node, "eth1", "192.168.89.2"),
            (other, "eth0", "192.168.89.9"),
        ):
            netns.run("ip", "addr", "add", f"{ip}/24", "dev", device)
            netns.run("ip", "link", "set", device, "up")
        yield Lan(node, peer, other)


def arp_answered(netns: NetNamespace, ip: str) -> bool:
    return netns.run("busybox", "arping", "-c", "1", "-w", "1", "-I", "eth0", ip, check=False).returncode == 0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path / "data")
    try:
        yield running
    finally:
        stop_server(running, thread)


async def eventually(check: Any, what: str, within: float = 5.0) -> None:
    for _ in range(int(within / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def set_ready(client: RestClient, status: str) -> None:
    conditions = [{"type": "Ready", "status": status, "reason": "Test"}]
    await client.patch(NODES, "n1", {"status": {"conditions": conditions}}, subresource="status")


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[RestClient]:
    async with RestClient(kubeconfig.load(server.kubeconfig)) as client:
        await client.create(NODES, {"metadata": {"name": "n1"}})
        await set_ready(client, "True")
        service = {
            "metadata": {"name": "front"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "targetPort": 8080}]},
        }
        await client.create(SERVICES, service, namespace="default")
        ingress = {"status": {"loadBalancer": {"ingress": [{"ip": LB_IP, "ipMode": "VIP"}]}}}
        await client.patch(SERVICES, "front", ingress, namespace="default", subresource="status")
        slice_ = {
            "metadata": {"name": "front-1", "labels": {"kubernetes.io/service-name": "front"}},
            "addressType": "IPv4",
            "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": ["10.42.0.5"], "nodeName": "n1", "conditions": {"ready": True}}],
        }
        await client.create(ENDPOINTSLICES, slice_, namespace="default")
        yield client


async def test_the_elected_node_carries_and_announces_the_address_until_it_no_longer_may(
    client: RestClient, lan: Lan
) -> None:
    lan.node.run(
        "ip", "addr", "add", f"{STALE_IP}/32", "dev", "eth0", "label", "eth0:kllb"
    )  # a crash's leftover
    lan.peer.run(
        "ip", "neigh", "replace", LB_IP, "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "stale"
    )
    informers = InformerFactory(client)
    announcer = Announcer(
        client,
        informers,
        node_name="n1",
        node_ip=NODE_IP,
        node_netns=lan.node.path,
        packet_socket=partial(socket_in_netns, lan.node.path, socket.AF_PACKET, socket.SOCK_RAW),
    )
    tasks = [asyncio.create_task(informers.run()), asyncio.create_task(announcer.run())]
    try:
        await eventually(lambda: f"{LB_IP}/32" in lan.announced(), "the address on eth0")
        assert "eth0:kllb" in lan.announced() and STALE_IP not in lan.announced()
        await eventually(lambda: f"lladdr {lan.node_mac()} " in lan.peer_entry(), "the gratuitous ARP")
        assert arp_answered(lan.peer, LB_IP)
        assert arp_answered(lan.other, "192.168.89.2") and not arp_answered(lan.other, LB_IP)  # strict ARP
        assert lan.peer.run("busybox", "ping", "-c", "1", "-W", "2", LB_IP, check=False).returncode == 0

        for _ in range(100):  # the event is recorded just after the gratuitous ARP, then written
            events = (await client.list(EVENTS, namespace="default"))["items"]
            messages = [e["message"] for e in events if e["reason"] == "nodeAssigned"]
            if messages:
                break
            await asyncio.sleep(0.05)
        assert messages == ['announcing from node "n1" with protocol "layer2"']

        await set_ready(client, "False")  # a NotReady node is no candidate
        await eventually(lambda: lan.announced() == "", "the address withdrawn")
        await set_ready(client, "True")
        await eventually(lambda: f"{LB_IP}/32" in lan.announced(), "the address back")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert lan.announced() == ""  # a stopped announcer leaves nothing that answers ARP
