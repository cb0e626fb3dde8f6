"""Node IPAM against an in-memory client: one /24 per node, never twice, freed with the node."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.client.controller import PermanentError
from kubelite.controllers.nodeipam import NODES, NodeIpamController
from tests.support.fakeclient import FakeClient, make_context, seed


def node(name: str, cidr: str | None = None) -> dict[str, Any]:
    spec = {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "spec": spec,
    }


def pod_cidr(fake: FakeClient, name: str) -> str | None:
    stored = fake.stored(NODES, name)
    assert stored is not None
    return stored["spec"].get("podCIDR")


async def test_each_node_gets_a_range_of_its_own_even_before_the_cache_catches_up() -> None:
    fake = FakeClient()
    ipam = NodeIpamController(make_context(fake, cluster_cidr="10.42.0.0/16"))
    seed(ipam.nodes, fake.add(NODES, node("a")), fake.add(NODES, node("b")))
    await ipam.reconcile("a")
    await ipam.reconcile("b")  # the cache does not show a's range yet
    assert pod_cidr(fake, "a") == "10.42.0.0/24"
    assert pod_cidr(fake, "b") == "10.42.1.0/24"
    assert fake.stored(NODES, "b")["spec"]["podCIDRs"] == ["10.42.1.0/24"]  # type: ignore[index]


async def test_ranges_of_existing_nodes_are_respected_and_freed_when_a_node_goes() -> None:
    fake = FakeClient()
    ipam = NodeIpamController(make_context(fake, cluster_cidr="10.42.0.0/16"))
    seed(ipam.nodes, fake.add(NODES, node("old", "10.42.0.0/24")), fake.add(NODES, node("new")))
    await ipam.reconcile("new")
    assert pod_cidr(fake, "new") == "10.42.1.0/24"

    ipam.nodes.apply_event("DELETED", node("old", "10.42.0.0/24"))
    seed(ipam.nodes, fake.add(NODES, node("newer")))
    await ipam.reconcile("old")
    ipam.nodes.apply_event("MODIFIED", fake.stored(NODES, "new"))  # type: ignore[arg-type]
    await ipam.reconcile("new")
    await ipam.reconcile("newer")
    assert pod_cidr(fake, "newer") == "10.42.0.0/24"


async def test_an_exhausted_range_is_a_permanent_error() -> None:
    fake = FakeClient()
    ipam = NodeIpamController(make_context(fake, cluster_cidr="10.42.0.0/24", node_cidr_mask_size=24))
    seed(ipam.nodes, fake.add(NODES, node("a", "10.42.0.0/24")), fake.add(NODES, node("b")))
    with pytest.raises(PermanentError):
        await ipam.reconcile("b")
