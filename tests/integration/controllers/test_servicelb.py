"""The servicelb controller against the real API server: LoadBalancer Services get addresses from a pool."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from kubelite.controllers.servicelb import AddressPool
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.test_housekeeping import eventually
from tests.support.running_controllers import RunningControllers

POOL = "192.168.200.0/30"  # two usable addresses: .1 and .2


def service(name: str, *, kind: str = "LoadBalancer", **spec: str) -> str:
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": 80}], **spec},
    }
    return json.dumps(body)


class Namespace:
    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.name = f"lb-{uuid.uuid4().hex[:8]}"
        server.kubectl("create", "namespace", self.name)

    def kubectl(self, *args: str, input: str | None = None) -> str:
        return str(self.server.kubectl("-n", self.name, *args, input=input).stdout)

    def create(self, name: str, **spec: str) -> None:
        self.kubectl("create", "-f", "-", input=service(name, **spec))

    def ingress(self, name: str) -> list[dict[str, Any]]:
        status = json.loads(self.kubectl("get", "service", name, "-o", "json")).get("status") or {}
        return list((status.get("loadBalancer") or {}).get("ingress") or [])

    def ip(self, name: str) -> str | None:
        ingress = self.ingress(name)
        return str(ingress[0]["ip"]) if ingress else None

    def events(self, name: str) -> list[dict[str, Any]]:
        out = self.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json")
        return list(json.loads(out)["items"])


@pytest.fixture
def ns(apiserver: RunningServer) -> Namespace:
    return Namespace(apiserver)


def lb(apiserver: RunningServer, pool: str) -> RunningControllers:
    return RunningControllers(apiserver.kubeconfig, names={"servicelb"}, lb_pool=pool)


def test_addresses_come_from_the_pool_and_an_exhausted_pool_leaves_a_warning(
    apiserver: RunningServer, ns: Namespace
) -> None:
    with lb(apiserver, POOL):
        ns.create("a")
        ns.create("b")
        first = eventually(lambda: ns.ip("a"), what="an address for a")
        second = eventually(lambda: ns.ip("b"), what="an address for b")
        assert {first, second} == {"192.168.200.1", "192.168.200.2"}
        assert ns.ingress("a") == [{"ip": first, "ipMode": "VIP"}]
        assert any(e["reason"] == "IPAllocated" for e in ns.events("a"))

        ns.create("c")
        warned = eventually(
            lambda: [e for e in ns.events("c") if e["reason"] == "AllocationFailed"], what="a warning"
        )
        assert warned[0]["type"] == "Warning"
        assert "no available IPs in pool" in warned[0]["message"]
        assert ns.ip("c") is None
        assert "<pending>" in ns.kubectl("get", "service", "c")

        ns.kubectl("delete", "service", "a")
        assert eventually(lambda: ns.ip("c"), what="the freed address for c") == first


def test_requested_address_class_and_type_change(apiserver: RunningServer, ns: Namespace) -> None:
    with lb(apiserver, "192.168.201.0/30"):
        ns.create("wanted", loadBalancerIP="192.168.201.2")
        assert eventually(lambda: ns.ip("wanted"), what="the requested address") == "192.168.201.2"
        ns.create("outside", loadBalancerIP="10.9.9.9")
        warned = eventually(
            lambda: [e for e in ns.events("outside") if e["reason"] == "AllocationFailed"], what="a warning"
        )
        assert "not allowed" in warned[0]["message"]
        ns.create("other-class", loadBalancerClass="example.com/lb")
        ns.create("plain", kind="ClusterIP")
        ns.create("later")
        assert eventually(lambda: ns.ip("later"), what="an address for later") == "192.168.201.1"
        assert ns.ip("other-class") is None and ns.ip("plain") is None

        # No longer a LoadBalancer: the API server clears its status and the address is free again.
        ns.kubectl("patch", "service", "later", "-p", json.dumps({"spec": {"type": "ClusterIP"}}))
        assert eventually(lambda: ns.ip("later") is None, what="the status cleared")
        ns.create("next")
        assert eventually(lambda: ns.ip("next"), what="the freed address reused") == "192.168.201.1"


def test_allocations_survive_a_restart(apiserver: RunningServer, ns: Namespace) -> None:
    with lb(apiserver, "192.168.202.0/29"):
        ns.create("kept")
        kept = eventually(lambda: ns.ip("kept"), what="an address")
    with lb(apiserver, "192.168.202.0/29"):
        ns.create("new")
        fresh = eventually(lambda: ns.ip("new"), what="an address after the restart")
        assert fresh != kept
        assert ns.ip("kept") == kept


def test_without_a_pool_services_stay_pending(apiserver: RunningServer, ns: Namespace) -> None:
    with lb(apiserver, pool=""):
        ns.create("idle")
        time.sleep(1.5)  # a working controller answers within a few hundred ms
        assert ns.ip("idle") is None


def test_pools_skip_network_and_broadcast_addresses_and_accept_ranges() -> None:
    assert list(AddressPool("10.0.0.0/30")) == ["10.0.0.1", "10.0.0.2"]
    assert list(AddressPool("10.0.0.4/31")) == ["10.0.0.4", "10.0.0.5"]
    wrapped = [*(f"10.0.0.{n}" for n in range(250, 256)), "10.0.1.0", "10.0.1.1"]
    assert list(AddressPool("10.0.0.250-10.0.1.1")) == wrapped
    assert "10.0.0.3" not in AddressPool("10.0.0.0/30")
    assert "fd00::2" in AddressPool("fd00::1-fd00::9")
    with pytest.raises(ValueError):
        AddressPool("10.0.0.9-10.0.0.1")
