"""Routes to the other nodes' pods: `<their podCIDR> via <their InternalIP>` in this node's network.

Nodes on one layer-2 network reach each other's pods this way without an overlay (flannel's host-gw).
Every route made here carries the protocol number ROUTE_PROTO, so a sync finds exactly its own routes —
after an agent restart too — and deletes those of nodes that went away, never touching anyone else's.
A sync is one `ip route show` plus a command per route that differs, so it runs on every Node change and,
to repair routes someone removed, every RESYNC seconds.

Pods talk to pods on other nodes without NAT (the Kubernetes network model), but the bridge plugin's
ipMasq masquerades whatever leaves the node's own pod range. So the chain KL-POD-ROUTES, jumped to first
from nat POSTROUTING, ACCEPTs (ends NAT for) traffic from our pod range to the other nodes' ranges.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from kubelite.client.controller import Controller, RequeueAfter
from kubelite.client.informer import Informer

log = logging.getLogger(__name__)

ROUTE_PROTO = 152  # unassigned in iproute2's rt_protos: marks kubelite's node routes
RESYNC = 60.0
KEY = "routes"
NAT_CHAIN = "KL-POD-ROUTES"


class RouteError(Exception):
    pass


def internal_ip(node: Mapping[str, Any]) -> str | None:
    for address in (node.get("status") or {}).get("addresses") or ():
        if address.get("type") == "InternalIP" and address.get("address"):
            return str(address["address"])
    return None


def own_pod_cidr(nodes: Iterable[Mapping[str, Any]], node_name: str) -> str | None:
    for node in nodes:
        if (node.get("metadata") or {}).get("name") == node_name:
            cidr = (node.get("spec") or {}).get("podCIDR")
            return str(ipaddress.ip_network(cidr, strict=False)) if cidr else None
    return None


def nat_rules(own: str | None, others: Iterable[str]) -> str:
    """iptables-restore input (for --noflush: only our chain is rewritten)."""
    lines = ["*nat", f":{NAT_CHAIN} - [0:0]"]
    if own is not None:
        lines += [f"-A {NAT_CHAIN} -s {own} -d {cidr} -j ACCEPT" for cidr in sorted(others)]
    return "\n".join([*lines, "COMMIT", ""])


def desired_routes(nodes: Iterable[Mapping[str, Any]], *, node_name: str) -> dict[str, str]:
    """podCIDR -> gateway for every other node that has both (IPv4 only: the NAT exemption is iptables)."""
    routes = {}
    for node in nodes:
        if (node.get("metadata") or {}).get("name") == node_name:
            continue
        cidr = (node.get("spec") or {}).get("podCIDR")
        gateway = internal_ip(node)
        if not cidr or not gateway:
            continue
        try:
            network = ipaddress.ip_network(cidr, strict=False)
            address = ipaddress.ip_address(gateway)
        except ValueError:
            continue
        if network.version == address.version == 4 and address not in network:
            routes[str(network)] = str(address)
    return routes


class NodeRoutes:
    """Keeps this node's routes to other nodes' pod ranges in line with the Nodes the informer sees."""

    def __init__(self, nodes: Informer, *, node_name: str, node_netns: str | None = None) -> None:
        self.nodes = nodes
        self.node_name = node_name
        self._wrap = () if node_netns is None else ("nsenter", f"--net={_netns_path(node_netns)}", "--")
        self._nat_applied: str | None = None  # rewritten when the rules change, and after a restart
        self.controller = Controller("noderoutes", self.reconcile)
        self.controller.watch(nodes, keys=lambda _node: (KEY,))

    async def run(self) -> None:
        await self.controller.run()

    async def reconcile(self, _key: str) -> None:
        await self.sync(self.nodes.cache.list())
        raise RequeueAfter(RESYNC)

    async def sync(self, nodes: Iterable[Mapping[str, Any]]) -> None:
        """Add, replace and delete routes until ours are exactly those the nodes call for. A route that
        cannot be made (e.g. a gateway off our networks) is logged and left to the next sync."""
        nodes = list(nodes)
        wanted = desired_routes(nodes, node_name=self.node_name)
        await self.sync_nat(nat_rules(own_pod_cidr(nodes, self.node_name), wanted))
        current = await self.current()
        for cidr in sorted(current.keys() - wanted.keys()):
            await self._ip("route", "del", cidr, "proto", str(ROUTE_PROTO))
            log.info("route to %s removed (node gone)", cidr)
        for cidr, gateway in sorted(wanted.items()):
            if current.get(cidr) == gateway:
                continue
            try:
                await self._ip("route", "replace", cidr, "via", gateway, "proto", str(ROUTE_PROTO))
            except RouteError as error:
                log.warning("no route to pods %s via %s: %s", cidr, gateway, error)
            else:
                log.info("route to pods %s via %s", cidr, gateway)

    async def sync_nat(self, rules: str) -> None:
        if rules == self._nat_applied:
            return
        await self._run("iptables-restore", "--noflush", stdin=rules.encode())
        try:
            await self._run("iptables", "-t", "nat", "-C", "POSTROUTING", "-j", NAT_CHAIN)
        except RouteError:
            await self._run("iptables", "-t", "nat", "-I", "POSTROUTING", "1", "-j", NAT_CHAIN)
        self._nat_applied = rules

    async def current(self) -> dict[str, str]:
        """Our routes now: destination -> gateway."""
        out = await self._ip("-j", "route", "show", "proto", str(ROUTE_PROTO))
        routes = orjson.loads(out or b"[]")
        return {
            str(ipaddress.ip_network(r["dst"], strict=False)): str(r.get("gateway", ""))
            for r in routes
            if r.get("dst")
        }

    async def _ip(self, *args: str) -> bytes:
        return await self._run("ip", *args)

    async def _run(self, *command: str, stdin: bytes | None = None) -> bytes:
        return await _run(*self._wrap, *command, stdin=stdin)


async def _run(*command: str, stdin: bytes | None = None) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=None if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin)
    if process.returncode != 0:
        raise RouteError(f"{' '.join(command)}: {err.decode(errors='replace').strip()}")
    return out


async def remove_node_routes(node_netns: str | None = None) -> int:
    """Uninstall: delete every route of ours (by its protocol number) and the NAT exemption chain with its
    jump; returns how many routes went."""
    wrap = () if node_netns is None else ("nsenter", f"--net={_netns_path(node_netns)}", "--")
    out = await _run(*wrap, "ip", "-j", "route", "show", "proto", str(ROUTE_PROTO))
    routes = orjson.loads(out or b"[]")
    for route in routes:
        await _run(*wrap, "ip", "route", "del", route["dst"], "proto", str(ROUTE_PROTO))
    saved = (await _run(*wrap, "iptables-save", "-t", "nat")).decode()
    if f":{NAT_CHAIN} " in saved:
        jumps = [line for line in saved.splitlines() if line.startswith("-A POSTROUTING") and
                 line.endswith(f"-j {NAT_CHAIN}")]
        rules = ["*nat", f":{NAT_CHAIN} - [0:0]", *("-D" + line[2:] for line in jumps), f"-X {NAT_CHAIN}"]
        await _run(*wrap, "iptables-restore", "--noflush", stdin="\n".join([*rules, "COMMIT", ""]).encode())
    return len(routes)


def _netns_path(node_netns: str) -> str:
    return node_netns if "/" in node_netns else f"/run/netns/{node_netns}"
