"""Allocating a Service's cluster IP, node ports and health-check node port on create and update.

Explicit values are reserved as asked (422 with upstream's words when out of range or taken), missing ones
are picked from the ranges. Everything a write reserves is an `Allocation`: the registry commits it once
the Service is stored (then what the old Service held and the new one does not goes back) or aborts it
(then what the write reserved goes back). Dry runs check values without reserving any.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.apiserver import errors
from kubelite.apiserver.resource import ApiResource
from kubelite.apiserver.services import families
from kubelite.apiserver.services.ranges import IPRange, PortRange
from kubelite.apiserver.services.reservations import Holder, Reservations, Taken
from kubelite.apiserver.services.spec import (
    HEADLESS,
    allocates_node_ports,
    cluster_ips,
    needs_cluster_ip,
    needs_health_check_port,
    needs_node_ports,
    node_ports,
    ports_of,
    spec_of,
)
from kubelite.apiserver.strategies import Reservation
from kubelite.store import NotFound, Store, StoreError

RESERVATIONS_PREFIX = "/registry/kubelite-allocations/"


def _holder(svc: dict[str, Any]) -> Holder:
    meta = svc.get("metadata") or {}
    return Holder(meta.get("namespace", ""), meta.get("name", ""), meta.get("uid", ""))


class Allocation(Reservation):
    """The values one write reserved, and those it will give back once it is stored."""

    def __init__(self, holder: Holder, *, dry_run: bool) -> None:
        self.holder = holder
        self.dry_run = dry_run
        self.chosen: set[str] = set()  # values picked by this write, reserved or (dry run) merely free
        self.claimed: list[tuple[Reservations, str]] = []
        self.release_on_commit: list[tuple[Reservations, str]] = []

    async def commit(self) -> None:
        for reservations, value in self.release_on_commit:
            await reservations.release(value, self.holder.uid)

    async def abort(self) -> None:
        for reservations, value in self.claimed:
            await reservations.release(value, self.holder.uid)
        self.claimed.clear()


class ServiceAllocator:
    def __init__(self, store: Store, services: ApiResource, ips: IPRange, ports: PortRange) -> None:
        self.store = store
        self.services = services
        self.ips = ips
        self.ports = ports
        self.ip_reservations = Reservations(store, f"{RESERVATIONS_PREFIX}serviceips/", self._uses_ip)
        self.port_reservations = Reservations(store, f"{RESERVATIONS_PREFIX}nodeports/", self._uses_port)

    # --- who uses what (stale reservations) -------------------------------------------------------------
    async def service(self, holder: Holder) -> dict[str, Any] | None:
        """The holder's Service as stored, if it still exists with that uid."""
        try:
            kv = await self.store.get(self.services.key(holder.namespace, holder.name))
        except NotFound:
            return None
        svc: dict[str, Any] = orjson.loads(kv.value)
        return svc if (svc.get("metadata") or {}).get("uid") == holder.uid else None

    async def _uses_ip(self, holder: Holder, value: str) -> bool:
        svc = await self.service(holder)
        return svc is not None and value in cluster_ips(svc)

    async def _uses_port(self, holder: Holder, value: str) -> bool:
        svc = await self.service(holder)
        return svc is not None and value.isdigit() and int(value) in node_ports(svc)

    # --- the hooks --------------------------------------------------------------------------------------
    async def allocate_create(self, svc: dict[str, Any], *, dry_run: bool) -> Allocation:
        return await self._allocate(svc, None, dry_run=dry_run)

    async def allocate_update(self, new: dict[str, Any], old: dict[str, Any], *, dry_run: bool) -> Allocation:
        return await self._allocate(new, old, dry_run=dry_run)

    async def release_all(self, svc: dict[str, Any]) -> None:
        uid = _holder(svc).uid
        for ip in cluster_ips(svc):
            await self.ip_reservations.release(ip, uid)
        for port in node_ports(svc):
            await self.port_reservations.release(str(port), uid)

    async def _allocate(
        self, svc: dict[str, Any], old: dict[str, Any] | None, *, dry_run: bool
    ) -> Allocation:
        txn = Allocation(_holder(svc), dry_run=dry_run)
        old_ips = cluster_ips(old) if old is not None else set()
        old_ports = node_ports(old) if old is not None else set()
        try:
            self._fail_on(families.settle(svc, old, cluster_family=self.ips.family), svc)
            if needs_cluster_ip(svc):
                await self._cluster_ips(svc, old_ips, txn)
            if needs_node_ports(svc):
                await self._node_ports(svc, old_ports, txn)
            if needs_health_check_port(svc):
                await self._health_check_port(svc, old_ports, txn)
        except StoreError as exc:
            await txn.abort()
            raise errors.service_unavailable(f"storage is unavailable: {exc}") from exc
        except BaseException:
            await txn.abort()
            raise
        txn.release_on_commit += [(self.ip_reservations, ip) for ip in old_ips - cluster_ips(svc)]
        txn.release_on_commit += [(self.port_reservations, str(p)) for p in old_ports - node_ports(svc)]
        return txn

    # --- reserving ----------------------------------------------------------------------------------------
    def _fail_on(self, causes: list[Cause], svc: dict[str, Any]) -> None:
        if causes:
            name = (svc.get("metadata") or {}).get("name", "")
            found = [errors.Cause(c.reason, c.message, c.field) for c in causes]
            raise errors.invalid(self.services.ref, name, found)

    async def _claim(self, txn: Allocation, reservations: Reservations, value: str) -> None:
        """Reserve one value (Taken if another Service holds it)."""
        if txn.dry_run:
            if not await reservations.available(value, txn.holder):
                raise Taken(value)
        elif await reservations.claim(value, txn.holder):
            txn.claimed.append((reservations, value))
        txn.chosen.add(value)

    async def _claim_next(self, txn: Allocation, reservations: Reservations, candidates: Any) -> str | None:
        taken = await reservations.taken()
        for value in candidates:
            value = str(value)
            if value in taken or value in txn.chosen:
                continue
            try:
                await self._claim(txn, reservations, value)
            except Taken:
                continue  # another write got there first
            return value
        return None

    async def _cluster_ips(self, svc: dict[str, Any], old_ips: set[str], txn: Allocation) -> None:
        spec = spec_of(svc)
        ips: list[str] = list(spec.get("clusterIPs") or [])
        if ips[:1] == [HEADLESS]:
            return
        if not ips:
            ip = await self._claim_next(txn, self.ip_reservations, self.ips.candidates())
            if ip is None:
                raise errors.internal("failed to allocate a serviceIP: range is full")
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
            return
        for ip in ips:
            if ip in old_ips or families.family_of(ip) != self.ips.family:
                continue  # kept, or malformed: validation reports it
            problem = ""
            if self.ips.offset(ip) is None:
                problem = (
                    f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {self.ips}"
                )
            else:
                try:
                    await self._claim(txn, self.ip_reservations, ip)
                except Taken:
                    problem = "provided IP is already allocated"
            if problem:
                detail = f"failed to allocate IP {ip}: {problem}"
                self._fail_on([e.invalid("spec.clusterIPs", e.go_strings(ips), detail)], svc)

    async def _port(self, txn: Allocation, port: int, old_ports: set[int]) -> str:
        """Reserve an explicit node port: "" when done, else what is wrong with it."""
        if port in old_ports or str(port) in txn.chosen:
            return ""  # the Service holds it already (several protocols may share one)
        if not self.ports.contains(port):
            return f"provided port is not in the valid range. The range of valid ports is {self.ports}"
        try:
            await self._claim(txn, self.port_reservations, str(port))
        except Taken:
            return "provided port is already allocated"
        return ""

    async def _next_port(self, txn: Allocation) -> int:
        port = await self._claim_next(txn, self.port_reservations, self.ports.candidates())
        if port is None:
            raise errors.internal("failed to allocate a nodePort: range is full")
        return int(port)

    async def _node_ports(self, svc: dict[str, Any], old_ports: set[int], txn: Allocation) -> None:
        ports = ports_of(svc)
        automatic = allocates_node_ports(svc)
        # Ports of one service port number (TCP and UDP of port 53, say) share one node port.
        by_number: dict[Any, int] = {}
        for i, port in enumerate(ports):
            requested = port.get("nodePort") or 0
            if not requested:  # take the one its siblings have, or one a later sibling asks for
                siblings = [p.get("nodePort") for p in ports[i + 1 :] if p.get("port") == port.get("port")]
                requested = by_number.get(port.get("port")) or next((n for n in siblings if n), 0)
            if not requested:
                if not automatic:
                    continue
                requested = await self._next_port(txn)
            elif problem := await self._port(txn, requested, old_ports):
                self._fail_on([e.invalid(f"spec.ports[{i}].nodePort", requested, problem)], svc)
            port["nodePort"] = requested
            by_number.setdefault(port.get("port"), requested)

    async def _health_check_port(self, svc: dict[str, Any], old_ports: set[int], txn: Allocation) -> None:
        spec = spec_of(svc)
        requested = spec.get("healthCheckNodePort") or 0
        if not requested:
            spec["healthCheckNodePort"] = await self._next_port(txn)
        elif problem := await self._port(txn, requested, old_ports):
            detail = f"failed to allocate requested HealthCheck NodePort {requested}: {problem}"
            self._fail_on([e.invalid("spec.healthCheckNodePort", requested, detail)], svc)
