"""The service proxy: keeps the node's KL iptables chains equal to what Services and EndpointSlices ask for.

Informer events only set a flag; one loop rebuilds the whole desired ruleset from the caches and applies the
difference. Syncs are at least `min_sync_period` apart, so a burst of changes (a Deployment scaling up) costs
one iptables-restore. A failed sync is retried after a back-off; the next one re-reads the kernel's state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.client import paths
from kubelite.client.cache import Snapshot
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.proxy.conntrack import UdpState, stale_flows, udp_state
from kubelite.proxy.iptables import Iptables, IptablesError, RuleSyncer
from kubelite.proxy.model import SERVICE_NAME_LABEL, ServicePort, service_ports
from kubelite.proxy.rules import Ruleset, build, proxied

log = logging.getLogger(__name__)

SERVICES = paths.resource("", "v1", "services")
ENDPOINTSLICES = paths.resource("discovery.k8s.io", "v1", "endpointslices")
RETRY_DELAY = 2.0


class ServiceProxy:
    def __init__(
        self,
        client: RestClient,
        informers: InformerFactory,
        *,
        node_name: str,
        node_ips: Sequence[str] = (),
        node_netns: str | None = None,
        cluster_cidr: str | None = None,
        node_local_ips: Iterable[str] = (),
        min_sync_period: float = 0.1,
    ) -> None:
        """`node_ips`: the addresses NodePorts answer on, 127.0.0.1 is added (empty: every local address).
        `cluster_cidr`: pod addresses; traffic to a ClusterIP from outside it is masqueraded.
        `node_local_ips`: ClusterIPs the node serves itself (cluster DNS): Services there are not proxied."""
        self.client = client
        self.node_name = node_name
        self.cluster_cidr = cluster_cidr
        self.node_local_ips = frozenset(node_local_ips)
        self.nodeport_addresses = tuple(dict.fromkeys([*node_ips, "127.0.0.1"])) if node_ips else ()
        self.iptables = Iptables(node_netns)
        self.syncer = RuleSyncer(self.iptables)
        self.min_sync_period = min_sync_period
        self._services = informers.informer(SERVICES)
        self._slices = informers.informer(ENDPOINTSLICES)
        self._dirty = asyncio.Event()
        self.synced = asyncio.Event()  # set after the first successful sync
        self.sync_count = 0
        self._udp: UdpState = {}
        self._fragments: dict[ServicePort, Ruleset] = {}
        self.last_sync_seconds = 0.0
        for informer in (self._services, self._slices):
            informer.add_handlers(
                on_add=lambda _: self.request_sync(),
                on_update=lambda _old, _new: self.request_sync(),
                on_delete=lambda _: self.request_sync(),
            )

    def request_sync(self) -> None:
        """Sync soon (informer events call this; so may anyone who changed the node's iptables)."""
        self._dirty.set()

    def desired_ports(self) -> list[ServicePort]:
        slices: dict[str, list[Snapshot]] = defaultdict(list)
        for slice_ in self._slices.cache.list():
            meta = slice_.get("metadata") or {}
            service = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
            if service:
                slices[f"{meta.get('namespace')}/{service}"].append(slice_)
        ports: list[ServicePort] = []
        for service in self._services.cache.list():
            owner: Any = service.get("metadata") or {}
            ports += service_ports(service, slices.get(f"{owner.get('namespace')}/{owner.get('name')}", ()))
        return ports

    async def sync(self) -> None:
        started = time.perf_counter()
        ports = proxied(self.desired_ports(), self.node_local_ips)
        ruleset = build(
            ports,
            node_name=self.node_name,
            cluster_cidr=self.cluster_cidr,
            nodeport_addresses=self.nodeport_addresses,
            cache=self._fragments,
        )
        changed = await self.syncer.sync(ruleset)
        for command in stale_flows(self._udp, ports):
            await self.iptables.run("conntrack", *command, check=False)  # fails when nothing matched
        self._udp = udp_state(ports)
        self.last_sync_seconds = time.perf_counter() - started
        self.sync_count += 1
        if changed:
            log.debug("proxy: %d chains changed in %.0f ms", changed, self.last_sync_seconds * 1000)

    async def run(self) -> None:
        """Sync on every change until cancelled (the informers run elsewhere: the factory's `run()`)."""
        # NodePorts on 127.0.0.1 are routed to pods only if the kernel accepts 127/8 sources off loopback.
        await self.iptables.sysctl("net.ipv4.conf.all.route_localnet", "1")
        await self._services.synced.wait()
        await self._slices.synced.wait()
        self._dirty.set()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.sync()
            except IptablesError as error:
                log.warning("proxy: sync failed, retrying in %.0fs: %s", RETRY_DELAY, error)
                self._dirty.set()
                await asyncio.sleep(RETRY_DELAY)
                continue
            self.synced.set()
            await asyncio.sleep(self.min_sync_period)

    async def cleanup(self) -> None:
        """Remove every KL chain and jump (the node stops proxying)."""
        await self.syncer.cleanup()


@dataclass(frozen=True)
class ProxyConfig:
    node_name: str
    cluster_cidr: str
    node_netns: str | None = None  # the node's pod network lives in this netns (see kubelite.agent.config)
    node_local_ips: frozenset[str] = frozenset()  # ClusterIPs the node answers at itself: left unproxied


async def serve(config: ProxyConfig, client: RestClient, informers: InformerFactory) -> None:
    """The proxy on the caller's client and informer factory (which the caller runs)."""
    proxy = ServiceProxy(
        client,
        informers,
        node_name=config.node_name,
        node_netns=config.node_netns,
        cluster_cidr=config.cluster_cidr,
        node_local_ips=config.node_local_ips,
    )
    await proxy.run()


async def cleanup() -> None:
    """Uninstall: remove every KL chain and jump from this network namespace (a stopped proxy leaves its
    rules in place, as kube-proxy does, so Services keep working across a restart)."""
    await RuleSyncer(Iptables()).cleanup()
