"""The write rules of Services: new ones get their addresses, updates keep what they were given.

An update that leaves out the allocated cluster IPs, IP families, node ports or health-check node port
keeps them (clients that replace a Service from a manifest never carry them), and a type change wipes
the fields the new type has no use for, when the client left them as they were, so that their values go
back to the ranges.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.apiserver.services.allocator import ServiceAllocator
from kubelite.apiserver.services.spec import (
    needs_cluster_ip,
    needs_health_check_port,
    needs_node_ports,
    ports_of,
    spec_of,
)
from kubelite.apiserver.strategies import Reservation, Strategy


def _externally_accessible(svc: dict[str, Any]) -> bool:
    spec = spec_of(svc)
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def _same(new_spec: dict[str, Any], old_spec: dict[str, Any], *fields: str) -> bool:
    return all(new_spec.get(f) == old_spec.get(f) for f in fields)


def drop_type_dependent_fields(new: dict[str, Any], old: dict[str, Any]) -> None:
    """Wipe what the new type does not use, unless the client changed it in this very update."""
    spec, old_spec = spec_of(new), spec_of(old)
    if needs_cluster_ip(old) and not needs_cluster_ip(new):
        if _same(spec, old_spec, "clusterIP", "clusterIPs"):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if _same(spec, old_spec, "ipFamilies"):
            spec.pop("ipFamilies", None)
        if _same(spec, old_spec, "ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    old_node_ports = [p.get("nodePort") for p in ports_of(old)]
    if (
        needs_node_ports(old)
        and not needs_node_ports(new)
        and [p.get("nodePort") for p in ports_of(new)] == old_node_ports
    ):
        for port in ports_of(new):
            port.pop("nodePort", None)
    if (
        needs_health_check_port(old)
        and not needs_health_check_port(new)
        and _same(spec, old_spec, "healthCheckNodePort")
    ):
        spec.pop("healthCheckNodePort", None)
    if old_spec.get("type") == "LoadBalancer" and spec.get("type") != "LoadBalancer":
        for field in ("allocateLoadBalancerNodePorts", "loadBalancerClass"):
            if _same(spec, old_spec, field):
                spec.pop(field, None)
    if _externally_accessible(old) and not _externally_accessible(new):
        if _same(spec, old_spec, "externalTrafficPolicy"):
            spec.pop("externalTrafficPolicy", None)
    if spec.get("type") != "LoadBalancer" and isinstance(new.get("status"), dict):
        new["status"]["loadBalancer"] = {}


def patch_allocated_values(new: dict[str, Any], old: dict[str, Any]) -> None:
    """Put back the allocated values an update left out."""
    spec, old_spec = spec_of(new), spec_of(old)
    if needs_cluster_ip(old) and needs_cluster_ip(new):
        for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if not spec.get(field) and old_spec.get(field):
                spec[field] = copy.deepcopy(old_spec[field])
    if needs_node_ports(old) and needs_node_ports(new):
        used = {p.get("nodePort") for p in ports_of(new)}
        by_name = {p.get("name") or "": p.get("nodePort") for p in ports_of(old)}
        for port in ports_of(new):
            previous = by_name.get(port.get("name") or "")
            if not port.get("nodePort") and previous and previous not in used:
                port["nodePort"] = previous
    if needs_health_check_port(old) and needs_health_check_port(new) and not spec.get("healthCheckNodePort"):
        if old_spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]


class ServiceStrategy(Strategy):
    def __init__(self, allocator: ServiceAllocator) -> None:
        self.allocator = allocator

    def prepare_create(self, obj: dict[str, Any]) -> None:
        obj["status"] = {"loadBalancer": {}}

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        drop_type_dependent_fields(new, old)
        patch_allocated_values(new, old)

    async def begin_create(self, obj: dict[str, Any], *, dry_run: bool) -> Reservation:
        return await self.allocator.allocate_create(obj, dry_run=dry_run)

    async def begin_update(self, new: dict[str, Any], old: dict[str, Any], *, dry_run: bool) -> Reservation:
        return await self.allocator.allocate_update(new, old, dry_run=dry_run)

    async def after_delete(self, obj: dict[str, Any]) -> None:
        await self.allocator.release_all(obj)
