"""ServiceLB: Services of type LoadBalancer get an address from a configured pool (MetalLB's controller;
announcing the address on the LAN is kubelite.proxy.announce's job, accepting its traffic the proxy's).

The address goes to status.loadBalancer.ingress as [{ip, ipMode: VIP}]. spec.loadBalancerIP (deprecated,
still used) is honoured when it lies in the pool and is free. Services with a spec.loadBalancerClass belong
to another implementation and are left alone. Which addresses are taken is read from the Services
themselves, so a restart rebuilds the allocation from what is stored; an address is free again once its
Service is gone or no longer a LoadBalancer (the API server clears the status on such a type change).
With no pool configured the controller does nothing: Services stay Pending, as on a cluster without a
load-balancer implementation — a made-up default range would hand out addresses nobody can reach.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from kubelite.client import paths
from kubelite.client.controller import Controller
from kubelite.client.events import WARNING
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.statuspatch import write_status

log = logging.getLogger(__name__)

SERVICES = paths.resource("", "v1", "services")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressPool:
    """`CIDR` or `first-last`. In a CIDR of IPv4 /30 or wider the network and broadcast addresses are
    skipped: many clients and routers mishandle them (MetalLB's avoidBuggyIPs)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec.strip()
        self.first: Address
        self.last: Address
        first_text, dash, last_text = self.spec.partition("-")
        if dash:
            self.first = ipaddress.ip_address(first_text.strip())
            self.last = ipaddress.ip_address(last_text.strip())
            if self.first.version != self.last.version or int(self.first) > int(self.last):
                raise ValueError(f"load-balancer pool {spec!r}: want first-last, in order, one IP family")
        else:
            network = ipaddress.ip_network(self.spec, strict=False)
            self.first, self.last = network[0], network[-1]
            if network.version == 4 and network.prefixlen <= 30:
                self.first, self.last = network[1], network[-2]

    def __contains__(self, ip: object) -> bool:
        try:
            address = ipaddress.ip_address(str(ip))
        except ValueError:
            return False
        return address.version == self.first.version and int(self.first) <= int(address) <= int(self.last)

    def __iter__(self) -> Iterator[str]:
        kind = type(self.first)
        for number in range(int(self.first), int(self.last) + 1):
            yield str(kind(number))


def wants_address(service: Mapping[str, Any]) -> bool:
    spec = service.get("spec") or {}
    return spec.get("type") == "LoadBalancer" and not spec.get("loadBalancerClass")


def ingress_ips(service: Mapping[str, Any]) -> list[str]:
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
    return [str(entry["ip"]) for entry in ingress if entry.get("ip")]


def key_of(service: Mapping[str, Any]) -> str:
    meta = service.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


class ServiceLBController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.pool = AddressPool(ctx.config.lb_pool) if ctx.config.lb_pool else None
        self.recorder = ctx.recorder("service-lb-controller")
        self.services = ctx.informers.informer(SERVICES)
        self.pending: dict[str, str] = {}  # service key -> address written, not yet in the cache
        # One worker: two Services must never be handed the same free address.
        self.controller = Controller("servicelb", self.reconcile, workers=1)
        self.controller.watch(self.services)

    async def run(self) -> None:
        if self.pool is None:
            log.info("servicelb: no --lb-pool configured; LoadBalancer Services stay pending")
            return
        await self.controller.run()

    def holders(self) -> dict[str, str]:
        """address -> key of the Service holding it (the older one when two claim it, e.g. a restore)."""
        assert self.pool is not None
        held: dict[str, tuple[str, str]] = {}
        for service in self.services.cache.list():
            if not wants_address(service):
                continue
            created = str((service.get("metadata") or {}).get("creationTimestamp") or "")
            for ip in ingress_ips(service):
                if ip in self.pool and (ip not in held or (created, key_of(service)) < held[ip]):
                    held[ip] = (created, key_of(service))
        result = {ip: key for ip, (_, key) in held.items()}
        for key, ip in self.pending.items():
            result.setdefault(ip, key)
        return result

    def wake_waiting(self) -> None:
        """An address may have been freed: retry every LoadBalancer Service still without one."""
        for service in self.services.cache.list():
            if wants_address(service) and not ingress_ips(service) and key_of(service) not in self.pending:
                self.controller.queue.add(key_of(service))

    async def reconcile(self, key: str) -> None:
        assert self.pool is not None
        service = self.services.cache.get(key)
        if service is None or not wants_address(service):
            self.pending.pop(key, None)
            self.wake_waiting()
            return
        current = [ip for ip in ingress_ips(service) if ip in self.pool]
        if key in self.pending:
            if self.pending[key] not in current:
                return  # our write is not in the cache yet; its watch event brings us back
            del self.pending[key]
        holders = self.holders()
        requested = str((service.get("spec") or {}).get("loadBalancerIP") or "")
        if current and holders.get(current[0]) == key and requested in ("", current[0]):
            return
        ip = self.choose(service, key, requested, holders)
        if ip is None:
            return
        self.pending[key] = ip
        try:
            await write_status(self.client, SERVICES, service, self.status_with(service, ip))
        except BaseException:
            self.pending.pop(key, None)
            raise
        self.recorder.record(service, reason="IPAllocated", message=f'Assigned IP ["{ip}"]')
        log.info("servicelb: %s gets %s", key, ip)

    def choose(
        self, service: Mapping[str, Any], key: str, requested: str, holders: dict[str, str]
    ) -> str | None:
        assert self.pool is not None
        problem = None
        if requested:
            if requested not in self.pool:
                problem = f'"{requested}" is not allowed in config (pool {self.pool.spec})'
            elif holders.get(requested, key) != key:
                problem = f'"{requested}" is already in use by {holders[requested]}'
            else:
                return requested
        else:
            free = next((ip for ip in self.pool if ip not in holders), None)
            if free is not None:
                return free
            problem = f'no available IPs in pool "{self.pool.spec}"'
        self.recorder.record(
            service,
            reason="AllocationFailed",
            event_type=WARNING,
            message=f'Failed to allocate IP for "{key}": {problem}',
        )
        return None

    @staticmethod
    def status_with(service: Mapping[str, Any], ip: str) -> dict[str, Any]:
        status = dict(service.get("status") or {})
        status["loadBalancer"] = {"ingress": [{"ip": ip, "ipMode": "VIP"}]}
        return status


def new_controller(ctx: ControllerContext) -> ServiceLBController:
    return ServiceLBController(ctx)
