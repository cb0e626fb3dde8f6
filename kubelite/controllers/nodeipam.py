"""Node IPAM: gives each node a pod range (spec.podCIDR/podCIDRs) carved from the cluster CIDR.

Which ranges are taken is read from the nodes themselves, so a restart rebuilds the allocation from what is
stored and a deleted node's range is free again as soon as it leaves the cache. Ranges handed out but not yet
seen in the cache are remembered, so two nodes never get the same one while the watch catches up.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator

from kubelite.client import paths
from kubelite.client.controller import Controller, PermanentError
from kubelite.client.events import WARNING
from kubelite.controllers.context import ControllerContext

log = logging.getLogger(__name__)

NODES = paths.resource("", "v1", "nodes")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NodeIpamController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.cluster_cidr: Network = ipaddress.ip_network(ctx.config.cluster_cidr, strict=False)
        self.mask = ctx.config.node_cidr_mask_size
        if self.mask < self.cluster_cidr.prefixlen:
            raise ValueError(f"node mask /{self.mask} is wider than the cluster CIDR {self.cluster_cidr}")
        self.recorder = ctx.recorder("cidrAllocator")
        self.nodes = ctx.informers.informer(NODES)
        self.pending: dict[str, str] = {}  # node -> range handed out, not yet in the cache
        # One worker: allocation decisions must not interleave.
        self.controller = Controller("nodeipam", self.reconcile, workers=1)
        self.controller.watch(self.nodes)

    async def run(self) -> None:
        await self.controller.run()

    def taken(self) -> set[str]:
        in_use = set(self.pending.values())
        for node in self.nodes.cache.list():
            spec = node.get("spec") or {}
            in_use.update(spec.get("podCIDRs") or ())
            if spec.get("podCIDR"):
                in_use.add(str(spec["podCIDR"]))
        return {str(ipaddress.ip_network(c, strict=False)) for c in in_use}

    def subnets(self) -> Iterator[str]:
        for subnet in self.cluster_cidr.subnets(new_prefix=self.mask):
            yield str(subnet)

    async def reconcile(self, key: str) -> None:
        node = self.nodes.cache.get(key)
        if node is None:
            self.pending.pop(key, None)  # deleted: its range is free again
            return
        spec = node.get("spec") or {}
        if spec.get("podCIDR") or spec.get("podCIDRs"):
            self.pending.pop(key, None)
            return
        if key in self.pending:  # handed out; our cache has not seen the write yet
            return
        taken = self.taken()
        cidr = next((c for c in self.subnets() if c not in taken), None)
        if cidr is None:
            self.recorder.record(
                node,
                reason="CIDRNotAvailable",
                event_type=WARNING,
                message=f"Node {key} status is now: CIDRNotAvailable",
            )
            raise PermanentError(f"no pod range left in {self.cluster_cidr} for node {key}")
        self.pending[key] = cidr
        try:
            await self.client.patch(NODES, key, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
        except BaseException:
            self.pending.pop(key, None)
            raise
        log.info("node %s: pod range %s", key, cidr)


def new_controller(ctx: ControllerContext) -> NodeIpamController:
    return NodeIpamController(ctx)
