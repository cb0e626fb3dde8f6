"""Layer-2 announcement of LoadBalancer addresses (MetalLB's L2 mode): one node answers ARP for each.

Every node runs the same election on the same informer caches, so all agree without talking: each
status.loadBalancer.ingress IP goes to the candidate node with the lowest sha256 of `node#ip` (MetalLB's
election). Candidates are the Ready nodes not labelled exclude-from-external-load-balancers; under
externalTrafficPolicy Local only those with a usable local endpoint (the others' proxies drop the traffic).
A Service with no usable endpoint is not announced, as MetalLB does.

The owner puts the IP on the interface carrying its node IP, labelled `<if>:kllb` so restarts and
`kubelite uninstall` find it, and sends gratuitous ARP so neighbours re-point their caches at once; the
kernel then answers ARP for it. Non-owners take it off. The proxy's PREROUTING DNAT (on every node) still
wins over local delivery, so the address only attracts the traffic (ports no Service claims reach the
owner's own sockets, as with kube-proxy's IPVS mode). arp_ignore=1 / arp_announce=2 (what kube-proxy's
strictARP asks for) keep other interfaces from answering for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import struct
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.client import paths
from kubelite.client.events import EventRecorder
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.proxy.iptables import netns_prefix
from kubelite.proxy.model import SERVICE_NAME_LABEL, cluster_endpoints, local_endpoints, service_ports

log = logging.getLogger(__name__)

SERVICES = paths.resource("", "v1", "services")
ENDPOINTSLICES = paths.resource("discovery.k8s.io", "v1", "endpointslices")
NODES = paths.resource("", "v1", "nodes")
LABEL_SUFFIX = ":kllb"
IFNAMSIZ = 16  # an address label is at most 15 characters
EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
RESYNC_PERIOD = 30.0  # re-checks the addresses even when nothing changed (someone may have removed one)
RETRY_DELAY = 2.0
ETH_P_ARP = 0x0806
PacketSocket = Callable[[], socket.socket]


def election_key(node: str, ip: str) -> bytes:
    return hashlib.sha256(f"{node}#{ip}".encode()).digest()


def elect(ip: str, candidates: Iterable[str]) -> str | None:
    """The node that announces `ip`: the candidate with the lowest hash (None without candidates)."""
    return min(candidates, key=lambda node: election_key(node, ip), default=None)


def candidate_nodes(nodes: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Ready nodes that may announce."""
    names = set()
    for node in nodes:
        meta = node.get("metadata") or {}
        conditions = (node.get("status") or {}).get("conditions") or ()
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        if ready and EXCLUDE_LABEL not in (meta.get("labels") or {}):
            names.add(str(meta.get("name")))
    return frozenset(names)


def ingress_ips(service: Mapping[str, Any]) -> list[str]:
    if (service.get("spec") or {}).get("type") != "LoadBalancer":
        return []
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
    return [str(i["ip"]) for i in ingress if i.get("ip") and ":" not in str(i["ip"])]


def service_candidates(
    service: Mapping[str, Any], slices: Iterable[Mapping[str, Any]], nodes: frozenset[str]
) -> frozenset[str]:
    """The nodes that may announce this Service's addresses."""
    ports = service_ports(service, slices)
    if (service.get("spec") or {}).get("externalTrafficPolicy") == "Local":
        return frozenset(node for node in nodes if any(local_endpoints(port, node) for port in ports))
    return nodes if any(cluster_endpoints(port) for port in ports) else frozenset()


def assignments(
    services: Iterable[Mapping[str, Any]], slices: Iterable[Mapping[str, Any]], nodes: frozenset[str]
) -> dict[str, tuple[Mapping[str, Any], str]]:
    """ip → (its Service, the elected node), for every LoadBalancer ingress IP with a candidate."""
    by_service: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for slice_ in slices:
        meta = slice_.get("metadata") or {}
        name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if name:
            by_service[(str(meta.get("namespace")), name)].append(slice_)
    out: dict[str, tuple[Mapping[str, Any], str]] = {}
    for service in services:
        ips = ingress_ips(service)
        if not ips:
            continue
        meta = service.get("metadata") or {}
        candidates = service_candidates(
            service, by_service[(str(meta.get("namespace")), str(meta.get("name")))], nodes
        )
        for ip in ips:
            owner = elect(ip, candidates)
            if owner is not None:
                out[ip] = (service, owner)
    return out


def label_for(interface: str) -> str | None:
    label = interface + LABEL_SUFFIX
    return label if len(label) < IFNAMSIZ else None


def arp_frames(mac: bytes, ip: str) -> list[bytes]:
    """A gratuitous ARP request and reply for `ip` at `mac` (peers take either; arping -U and -A)."""
    spa = socket.inet_aton(ip)
    header = b"\xff" * 6 + mac + ETH_P_ARP.to_bytes(2, "big")
    return [
        header + struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac, spa, tha, spa)
        for op, tha in ((1, b"\0" * 6), (2, mac))
    ]


def send_gratuitous_arp(interface: str, ip: str, make_socket: PacketSocket) -> None:
    with make_socket() as sock:
        sock.bind((interface, 0))
        mac = sock.getsockname()[4]  # the interface's hardware address
        for frame in arp_frames(mac, ip):
            sock.send(frame)


def _packet_socket() -> socket.socket:
    return socket.socket(socket.AF_PACKET, socket.SOCK_RAW)


class IpCommand:
    """`ip` and `sysctl` in the node's netns."""

    def __init__(self, netns: str | None) -> None:
        self._prefix = netns_prefix(netns)

    async def run(self, *command: str) -> str:
        process = await asyncio.create_subprocess_exec(
            *self._prefix,
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise OSError(f"{' '.join(command)}: exit {process.returncode}: {err.decode().strip()}")
        return out.decode()

    async def addresses(self, *selector: str) -> dict[str, str]:
        """IPv4 address → interface, of `ip addr show` with `selector`."""
        found = {}
        for line in (await self.run("ip", "-o", "-4", "addr", "show", *selector)).splitlines():
            fields = line.split()
            if len(fields) > 3 and fields[2] == "inet":
                found[fields[3].split("/")[0]] = fields[1]
        return found

    async def announced(self) -> dict[str, str]:
        return await self.addresses("label", f"*{LABEL_SUFFIX}")

    async def release(self) -> list[str]:
        """Take every labelled load-balancer address off; returns them."""
        announced = await self.announced()
        for address, interface in announced.items():
            await self.run("ip", "addr", "del", f"{address}/32", "dev", interface)
        return sorted(announced)


async def release(netns: str | None = None) -> list[str]:
    """Uninstall: the addresses a node that was killed (not stopped) still carries."""
    return await IpCommand(netns).release()


class Announcer:
    """Keeps this node's labelled addresses equal to the ingress IPs it won."""

    def __init__(
        self,
        client: RestClient,
        informers: InformerFactory,
        *,
        node_name: str,
        node_ip: str,
        node_netns: str | None = None,
        packet_socket: PacketSocket = _packet_socket,
    ) -> None:
        self.node_name = node_name
        self.node_ip = node_ip
        self.ip = IpCommand(node_netns)
        self.packet_socket = packet_socket
        self.recorder = EventRecorder(client, component="kubelite-speaker", host=node_name)
        self._services = informers.informer(SERVICES)
        self._slices = informers.informer(ENDPOINTSLICES)
        self._nodes = informers.informer(NODES)
        self._dirty = asyncio.Event()
        self._strict_arp = False
        self._held: set[str] | None = None  # the labelled addresses here (None: not looked yet)
        for informer in (self._services, self._slices, self._nodes):
            informer.add_handlers(
                on_add=lambda _: self._dirty.set(),
                on_update=lambda _old, _new: self._dirty.set(),
                on_delete=lambda _: self._dirty.set(),
            )

    def mine(self) -> dict[str, Mapping[str, Any]]:
        """ip → Service, for the addresses this node should announce."""
        won = assignments(
            self._services.cache.list(), self._slices.cache.list(), candidate_nodes(self._nodes.cache.list())
        )
        return {ip: service for ip, (service, owner) in won.items() if owner == self.node_name}

    async def sync(self) -> None:
        wanted = self.mine()
        if not wanted and self._held == set():
            return  # the common case (no --lb-pool, or nothing won): no process to spawn
        current = await self.ip.announced()
        self._held = set(current)
        interface = None
        if wanted:
            interface = (await self.ip.addresses()).get(self.node_ip)
            if interface is None:
                log.warning("announce: node IP %s is on no interface here: cannot announce", self.node_ip)
        for address, on in current.items():
            if address not in wanted or on != interface:
                await self.ip.run("ip", "addr", "del", f"{address}/32", "dev", on)
                self._held.discard(address)
                log.info("announce: %s no longer announced from %s", address, on)
        if interface is None:
            return
        label = label_for(interface)
        if label is None:
            log.warning(
                "announce: interface name %r too long for the label %r: not announcing",
                interface,
                LABEL_SUFFIX,
            )
            return
        for address, service in wanted.items():
            if current.get(address) == interface:
                continue
            await self._strict_arp_once()
            await self.ip.run("ip", "addr", "replace", f"{address}/32", "dev", interface, "label", label)
            self._held.add(address)
            try:
                await asyncio.to_thread(send_gratuitous_arp, interface, address, self.packet_socket)
            except OSError as error:  # peers still learn it from their next ARP request
                log.warning("announce: gratuitous ARP for %s on %s failed: %s", address, interface, error)
            log.info("announce: %s announced from %s", address, interface)
            message = f'announcing from node "{self.node_name}" with protocol "layer2"'
            self.recorder.record(service, reason="nodeAssigned", message=message)

    async def _strict_arp_once(self) -> None:
        """Answer ARP only on the interface holding the address, and source ARP requests from an address of
        the interface's own subnet (not a load-balancer address that may move)."""
        if not self._strict_arp:
            await self.ip.run("sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=1")
            await self.ip.run("sysctl", "-q", "-w", "net.ipv4.conf.all.arp_announce=2")
            self._strict_arp = True

    async def run(self) -> None:
        """Sync on every change (and every RESYNC_PERIOD) until cancelled; takes stale addresses off first.
        A stopped announcer takes its addresses off (unlike the proxy's rules, which keep traffic flowing
        over a restart): left in place they would answer ARP beside the node elected next."""
        for informer in (self._services, self._slices, self._nodes):
            await informer.synced.wait()
        try:
            await self._loop()
        finally:
            if self._held:
                await self.ip.release()

    async def _loop(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.recorder.run(), name="announce events")
            while True:
                self._dirty.clear()
                try:
                    await self.sync()
                except OSError as error:
                    log.warning("announce: sync failed, retrying in %.0fs: %s", RETRY_DELAY, error)
                    await asyncio.sleep(RETRY_DELAY)
                    self._dirty.set()
                try:
                    await asyncio.wait_for(self._dirty.wait(), RESYNC_PERIOD)
                except TimeoutError:
                    pass
                await asyncio.sleep(0.1)  # coalesce bursts


@dataclass(frozen=True)
class AnnounceConfig:
    node_name: str
    node_ip: str
    node_netns: str | None = None
    packet_socket: PacketSocket | None = None  # makes an AF_PACKET socket in node_netns (None: ours)


async def serve(config: AnnounceConfig, client: RestClient, informers: InformerFactory) -> None:
    """The announcer on the caller's client and informer factory (which the caller runs)."""
    announcer = Announcer(
        client,
        informers,
        node_name=config.node_name,
        node_ip=config.node_ip,
        node_netns=config.node_netns,
        packet_socket=config.packet_socket or _packet_socket,
    )
    await announcer.run()
