"""NodeRoutes in a node network namespace of the test's own: routes to other nodes' pod ranges."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from kubelite.agent.network.routes import NAT_CHAIN, ROUTE_PROTO, NodeRoutes, remove_node_routes
from kubelite.client import kubeconfig, paths
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.apiserver.conftest import apiserver as apiserver
from tests.support.netns import NetNamespace

NODES = paths.resource("", "v1", "nodes")


def node(name: str, ip: str | None, cidr: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}}
    if cidr:
        body["spec"] = {"podCIDR": cidr, "podCIDRs": [cidr]}
    if ip:
        body["status"] = {"addresses": [{"type": "InternalIP", "address": ip}]}
    return body


def lan(netns: NetNamespace) -> None:
    """The node's own address on a LAN (a veth pair: no dummy driver here), so the other nodes' addresses
    are valid gateways."""
    netns.run("ip", "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
    netns.run("ip", "addr", "add", "192.168.77.10/24", "dev", "lan0")
    netns.run("ip", "link", "set", "lan1", "up")
    netns.run("ip", "link", "set", "lan0", "up")


def routes(netns: NetNamespace) -> dict[str, str]:
    out = netns.run("ip", "-j", "route", "show", "proto", str(ROUTE_PROTO)).stdout
    return {r["dst"]: r["gateway"] for r in json.loads(out or "[]")}


def no_nat(netns: NetNamespace) -> list[tuple[str, str]]:
    """(source, destination) of the rules that exempt pod-to-pod traffic from the bridge's masquerading."""
    first = netns.run("iptables", "-t", "nat", "-S", "POSTROUTING").stdout.splitlines()[1]
    assert first == f"-A POSTROUTING -j {NAT_CHAIN}"
    rules = netns.run("iptables", "-t", "nat", "-S", NAT_CHAIN).stdout.splitlines()[1:]
    return [(rule.split()[3], rule.split()[5]) for rule in rules]


async def test_sync_adds_replaces_and_removes_only_its_own_routes(node_netns: NetNamespace) -> None:
    lan(node_netns)
    node_netns.run("ip", "route", "add", "10.99.0.0/24", "via", "192.168.77.99")  # someone else's
    keeper = NodeRoutes(_NoInformer(), node_name="a", node_netns=node_netns.name)  # type: ignore[arg-type]
    await keeper.sync(
        [
            node("a", "192.168.77.10", "10.42.0.0/24"),  # ourselves
            node("b", "192.168.77.11", "10.42.1.0/24"),
            node("c", "192.168.77.12", "10.42.2.0/24"),
            node("d", None, "10.42.3.0/24"),  # no address yet
            node("e", "192.168.77.14", None),  # no range yet
            node("f", "10.77.0.1", "10.42.5.0/24"),  # off our networks: logged, skipped
        ]
    )
    assert routes(node_netns) == {"10.42.1.0/24": "192.168.77.11", "10.42.2.0/24": "192.168.77.12"}
    others = ["10.42.1.0/24", "10.42.2.0/24", "10.42.5.0/24"]  # unroutable or not: they are pods
    assert no_nat(node_netns) == [("10.42.0.0/24", cidr) for cidr in others]
    moved = node("b", "192.168.77.21", "10.42.1.0/24")
    me, c = node("a", "192.168.77.10", "10.42.0.0/24"), node("c", "192.168.77.12", "10.42.2.0/24")
    await keeper.sync([me, moved, c])
    assert routes(node_netns) == {"10.42.1.0/24": "192.168.77.21", "10.42.2.0/24": "192.168.77.12"}
    await keeper.sync([me, c])
    assert routes(node_netns) == {"10.42.2.0/24": "192.168.77.12"}
    assert no_nat(node_netns) == [("10.42.0.0/24", "10.42.2.0/24")]
    await keeper.sync([])
    assert routes(node_netns) == {}
    assert no_nat(node_netns) == []
    assert "10.99.0.0/24 via 192.168.77.99" in node_netns.run("ip", "route").stdout


def test_routes_follow_the_nodes_in_the_api(apiserver: RunningServer, node_netns: NetNamespace) -> None:
    lan(node_netns)
    suffix = uuid.uuid4().hex[:6]
    peer = f"peer-{suffix}"

    async def main() -> None:
        async with RestClient(kubeconfig.load(apiserver.kubeconfig)) as client:
            informers = InformerFactory(client)
            nodes = informers.informer(NODES)
            keeper = NodeRoutes(nodes, node_name=f"me-{suffix}", node_netns=node_netns.path)
            await client.create(NODES, node(f"me-{suffix}", "192.168.77.10", "10.42.0.0/24"))
            await client.create(NODES, node(peer, "192.168.77.11", "10.42.1.0/24"))
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(informers.run()), group.create_task(keeper.run())]
                try:
                    await _until(lambda: routes(node_netns) == {"10.42.1.0/24": "192.168.77.11"})
                    await client.delete(NODES, peer)
                    await _until(lambda: routes(node_netns) == {})
                finally:
                    for task in tasks:
                        task.cancel()

    apiserver.call(main())


async def _until(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the routes"
        await asyncio.sleep(0.1)


class _NoInformer:
    """sync() alone needs no informer; the constructor only registers handlers."""

    def add_handlers(self, **_handlers: Any) -> None:
        pass


async def test_uninstall_removes_our_routes_and_nat_chain_only(node_netns: NetNamespace) -> None:
    lan(node_netns)
    node_netns.run("ip", "route", "add", "10.99.0.0/24", "via", "192.168.77.99")  # someone else's
    keeper = NodeRoutes(_NoInformer(), node_name="a", node_netns=node_netns.name)  # type: ignore[arg-type]
    me, other = node("a", "192.168.77.10", "10.42.0.0/24"), node("b", "192.168.77.11", "10.42.1.0/24")
    await keeper.sync([me, other])
    assert routes(node_netns) and no_nat(node_netns)
    assert await remove_node_routes(node_netns.name) == 1
    assert routes(node_netns) == {}
    assert NAT_CHAIN not in node_netns.run("iptables-save", "-t", "nat").stdout
    assert "10.99.0.0/24 via 192.168.77.99" in node_netns.run("ip", "route").stdout
    assert await remove_node_routes(node_netns.name) == 0  # again: nothing left, no error
