"""What the API server sets up for Services at every start.

The `kubernetes` Service in `default` sits at the service range's first address (port 443, named https,
to the API server's port) with Endpoints and an EndpointSlice pointing at the address the API server
advertises; each start brings them up to date. The Endpoints are written as the server's own record:
a single-machine setup advertises a loopback address, which user-written Endpoints may not hold. With
several API servers on one store the last one started is the one named (no lease-based merging yet).

The cluster DNS Service, `kube-system/kube-dns`, sits at the range's tenth address, where every node answers
DNS itself (as k3s's CoreDNS manifest shapes it). It holds that address like any Service, so no user's
Service gets it; a user's Service that took it first is left alone (with a warning).

Reservations are repaired too: a Service stored without them (written before they existed) gets them, and
stale ones (a crash between reserving and storing) are dropped.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
from typing import Any

import orjson

from kubelite.apiserver import errors
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.services.allocator import ServiceAllocator
from kubelite.apiserver.services.reservations import Holder, Reservations, Taken
from kubelite.apiserver.services.spec import cluster_ips, node_ports

log = logging.getLogger(__name__)

NAME, NAMESPACE = "kubernetes", "default"
PORT_NAME = "https"
DNS_NAME, DNS_NAMESPACE = "kube-dns", "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}


def _service(cluster_ip: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "ports": [{"name": PORT_NAME, "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
        },
    }


def _endpoints(address: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {"addresses": [{"ip": address}], "ports": [{"name": PORT_NAME, "port": port, "protocol": "TCP"}]}
        ],
    }


def _endpoint_slice(address: str, port: int) -> dict[str, Any]:
    family = "IPv4" if ipaddress.ip_address(address).version == 4 else "IPv6"
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/service-name": NAME},
        },
        "addressType": family,
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": PORT_NAME, "port": port, "protocol": "TCP"}],
    }


async def _reconcile(
    registry: Registry, desired: dict[str, Any], *, fields: tuple[str, ...]
) -> dict[str, Any]:
    """Bring the `fields` ("subsets", or "spec.ports": one key of a section) and labels of the stored object
    in line with `desired`, or create it. (Updating first matters for Services: a create would try to
    reserve the address again, and a Service's cluster IP stays its own for good.)"""

    def update(current: dict[str, Any]) -> dict[str, Any]:
        current["metadata"].setdefault("labels", {}).update(desired["metadata"]["labels"])
        for field in fields:
            section, _, key = field.partition(".")
            if key:
                current.setdefault(section, {})[key] = copy.deepcopy(desired[section][key])
            else:
                current[section] = copy.deepcopy(desired[section])
        return current

    trusted = desired["kind"] != "Service"
    meta = desired["metadata"]
    try:
        return (await registry.update(meta["namespace"], meta["name"], update, trusted=trusted)).obj
    except errors.ApiError as exc:
        if exc.reason != "NotFound":
            raise
        return await registry.create(copy.deepcopy(desired), trusted=trusted)


async def ensure_kubernetes_service(
    services: Registry,
    endpoints: Registry | None,
    endpoint_slices: Registry | None,
    *,
    cluster_ip: str,
    address: str,
    port: int,
) -> None:
    await _reconcile(services, _service(cluster_ip, port), fields=("spec.ports",))
    try:
        ipaddress.ip_address(address)
    except ValueError:
        log.warning("advertised address %r is not an IP: the kubernetes Service has no endpoints", address)
        return
    if endpoints is not None:
        await _reconcile(endpoints, _endpoints(address, port), fields=("subsets",))
    if endpoint_slices is not None:
        slice_fields = ("addressType", "endpoints", "ports")
        await _reconcile(endpoint_slices, _endpoint_slice(address, port), fields=slice_fields)


def _dns_service(cluster_ip: str) -> dict[str, Any]:
    ports = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": DNS_NAME, "namespace": DNS_NAMESPACE, "labels": dict(DNS_LABELS)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "selector": {"k8s-app": "kube-dns"},
            "ports": [{"name": n, "port": p, "protocol": proto, "targetPort": p} for n, p, proto in ports],
            "sessionAffinity": "None",
        },
    }


async def ensure_cluster_dns_service(
    services: Registry, allocator: ServiceAllocator, *, cluster_ip: str
) -> None:
    """Create or repair kube-system/kube-dns at `cluster_ip`, unless another Service holds that address.
    (The kube-system namespace is one the server always makes first.)"""
    try:
        stored = await _reconcile(services, _dns_service(cluster_ip), fields=("spec.ports", "spec.selector"))
    except errors.ApiError as exc:
        holder = await allocator.ip_reservations.holder(cluster_ip)
        if (
            exc.reason != "Invalid"
            or holder is None
            or (holder.namespace, holder.name) == (DNS_NAMESPACE, DNS_NAME)
        ):
            raise
        log.warning(
            "the cluster DNS address %s is taken by Service %s/%s, so there is no %s/%s Service; every node "
            "answers DNS at that address itself, so that Service's traffic never reaches its endpoints",
            cluster_ip,
            holder.namespace,
            holder.name,
            DNS_NAMESPACE,
            DNS_NAME,
        )
        return
    if (stored_ip := stored["spec"].get("clusterIP")) != cluster_ip:
        log.warning(
            "Service %s/%s has cluster IP %s, but pods are told to resolve names at %s",
            DNS_NAMESPACE,
            DNS_NAME,
            stored_ip,
            cluster_ip,
        )


async def _ensure(reservations: Reservations, value: str, holder: Holder) -> None:
    try:
        await reservations.claim(value, holder)
    except Taken:
        other = await reservations.holder(value)
        log.error("%s of Service %s/%s is also reserved for %s", value, holder.namespace, holder.name, other)


async def repair_reservations(services: Registry, allocator: ServiceAllocator) -> None:
    """Reserve what stored Services use, then drop reservations nobody uses any more."""
    prefix, after, revision = services.resource.storage_prefix, "", 0
    while True:
        page = await services.store.list(prefix, limit=500, start_after=after, revision=revision)
        for kv in page.items:
            svc: dict[str, Any] = orjson.loads(kv.value)
            meta = svc.get("metadata") or {}
            holder = Holder(meta.get("namespace", ""), meta.get("name", ""), meta.get("uid", ""))
            for ip in cluster_ips(svc):
                await _ensure(allocator.ip_reservations, ip, holder)
            for port in node_ports(svc):
                await _ensure(allocator.port_reservations, str(port), holder)
        if not page.more or not page.items:
            break
        after, revision = page.items[-1].key, page.revision
    for reservations in (allocator.ip_reservations, allocator.port_reservations):
        for value, kv in await reservations.records():
            if await reservations.drop_if_stale(value, kv):
                log.info("released stale reservation %s", kv.key)
