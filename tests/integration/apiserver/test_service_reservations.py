"""Service address reservations in the store: two API servers sharing one store never hand out the same
address, failed writes and stale reservations give addresses back, and the repair at start fills in what
older data lacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from kubelite.apiserver import errors, validation
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.services import bootstrap, reservations
from kubelite.apiserver.services.allocator import ServiceAllocator
from kubelite.apiserver.services.ranges import IPRange, PortRange
from kubelite.apiserver.services.strategy import ServiceStrategy
from kubelite.apiserver.table import load_resources
from kubelite.store import Store, open_store

SERVICES = next(r for r in load_resources() if r.plural == "services")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite://{tmp_path / 'state.db'}")
    try:
        yield opened
    finally:
        await opened.close()


def _api_server(store: Store, cidr: str = "10.43.0.0/24") -> Registry:
    """One API server's view of Services on the shared store."""
    allocator = ServiceAllocator(store, SERVICES, IPRange.parse(cidr), PortRange.parse("30000-30099"))
    return Registry(store, SERVICES, ServiceStrategy(allocator), validate=validation.validate)


def _allocator(registry: Registry) -> ServiceAllocator:
    assert isinstance(registry.strategy, ServiceStrategy)
    return registry.strategy.allocator


def _service(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"ports": [{"port": 80}], **spec},
    }


async def test_two_api_servers_never_share_an_address(store: Store) -> None:
    first, second = _api_server(store), _api_server(store)
    created = await asyncio.gather(
        *((first if i % 2 else second).create(_service(f"s{i}", type="NodePort")) for i in range(60))
    )
    ips = [s["spec"]["clusterIP"] for s in created]
    ports = [s["spec"]["ports"][0]["nodePort"] for s in created]
    assert len(set(ips)) == 60 and len(set(ports)) == 60
    assert await _allocator(first).ip_reservations.taken() == set(ips)


async def test_a_full_range_is_an_internal_error_and_holds_nothing(store: Store) -> None:
    tiny = _api_server(store, cidr="10.99.0.0/30")  # two usable addresses
    await tiny.create(_service("a"))
    await tiny.create(_service("b"))
    with pytest.raises(errors.ApiError) as full:
        await tiny.create(_service("c", type="NodePort"))
    assert (full.value.code, full.value.message) == (
        500,
        "Internal error occurred: failed to allocate a serviceIP: range is full",
    )
    assert await _allocator(tiny).port_reservations.taken() == set()


async def test_a_stale_reservation_is_taken_over_and_a_fresh_one_is_not(store: Store) -> None:
    registry = _api_server(store)
    ips = _allocator(registry).ip_reservations
    record = {"namespace": "default", "name": "gone", "uid": "u-gone", "reservedAt": time.time()}
    await store.create(ips.prefix + "10.43.0.7", orjson.dumps(record))
    with pytest.raises(errors.ApiError) as fresh:
        await registry.create(_service("x", clusterIP="10.43.0.7"))
    assert fresh.value.message.endswith("provided IP is already allocated")

    record["reservedAt"] = time.time() - reservations.STALE_AFTER - 1
    kv = await store.get(ips.prefix + "10.43.0.7")
    await store.update(ips.prefix + "10.43.0.7", orjson.dumps(record), expected_revision=kv.mod_revision)
    created = await registry.create(_service("x", clusterIP="10.43.0.7"))
    assert await ips.holder("10.43.0.7") == reservations.Holder("default", "x", created["metadata"]["uid"])


async def test_repair_reserves_what_services_use_and_drops_leftovers(store: Store) -> None:
    registry = _api_server(store)
    allocator = _allocator(registry)
    created = await registry.create(_service("kept", type="NodePort"))
    ip, port = created["spec"]["clusterIP"], created["spec"]["ports"][0]["nodePort"]
    await store.delete(allocator.ip_reservations.prefix + ip)  # as if written before reservations existed
    leftover = {"namespace": "default", "name": "crashed", "uid": "u-crashed", "reservedAt": 0}
    leftover_port = 30050 if port != 30050 else 30051  # any port but the one "kept" was given at random
    await store.create(allocator.port_reservations.prefix + str(leftover_port), orjson.dumps(leftover))

    await bootstrap.repair_reservations(registry, allocator)
    assert await allocator.ip_reservations.taken() == {ip}
    assert await allocator.port_reservations.taken() == {str(port)}


async def test_ports_of_one_number_share_a_node_port(store: Store) -> None:
    registry = _api_server(store)
    ports = [
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "dns", "port": 53, "protocol": "UDP"},
    ]
    created = await registry.create(_service("dns", type="NodePort", ports=ports))
    node_ports = {p["nodePort"] for p in created["spec"]["ports"]}
    assert len(node_ports) == 1
    assert await _allocator(registry).port_reservations.taken() == {str(n) for n in node_ports}

    balancer = await registry.create(_service("lb", type="LoadBalancer", allocateLoadBalancerNodePorts=False))
    assert "nodePort" not in balancer["spec"]["ports"][0]
