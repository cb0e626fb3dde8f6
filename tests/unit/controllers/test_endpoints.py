"""The Endpoints and EndpointSlice controllers against an in-memory client."""

from __future__ import annotations

from typing import Any

from kubelite.controllers.endpoints import ENDPOINTS, EndpointsController
from kubelite.controllers.endpointslice import (
    ENDPOINTSLICES,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    EndpointSliceController,
)
from tests.support.fakeclient import FakeClient, make_context, seed


def service(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "ns", "uid": "uid-web", "labels": {"tier": "front"}},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            **spec,
        },
    }


def pod(name: str, ip: str, *, ready: bool, port: int = 8080, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "uid": f"uid-{name}", "labels": {"app": "web"}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "nodeName": "n1",
            "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}],
        },
        "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


PODS = [
    pod("a", "10.42.0.2", ready=True),
    pod("b", "10.42.0.3", ready=False),
    pod("c", "10.42.0.4", ready=True, port=9090),  # its named port resolves differently
    pod("d", "10.42.0.5", ready=True, deleting=True),
    {**pod("e", "", ready=True), "status": {}},  # no IP yet
]


async def test_endpoints_split_ready_and_not_ready_and_group_by_resolved_port() -> None:
    fake = FakeClient()
    controller = EndpointsController(make_context(fake))
    seed(controller.services, service())
    seed(controller.pods, *PODS)
    await controller.reconcile("ns/web")
    endpoints = fake.stored(ENDPOINTS, "web", "ns")
    assert endpoints is not None
    assert endpoints["metadata"]["labels"] == {"tier": "front"}
    first, second = endpoints["subsets"]
    assert [a["ip"] for a in first["addresses"]] == ["10.42.0.2"]
    assert [a["ip"] for a in first["notReadyAddresses"]] == ["10.42.0.3"]
    assert first["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert first["addresses"][0]["targetRef"] == {
        "kind": "Pod",
        "namespace": "ns",
        "name": "a",
        "uid": "uid-a",
    }
    assert first["addresses"][0]["nodeName"] == "n1"
    assert [a["ip"] for a in second["addresses"]] == ["10.42.0.4"] and second["ports"][0]["port"] == 9090

    seed(controller.endpoints, endpoints)
    await controller.reconcile("ns/web")
    assert len(fake.actions) == 1  # nothing changed, nothing written


async def test_publish_not_ready_addresses_and_removal_with_the_service() -> None:
    fake = FakeClient()
    controller = EndpointsController(make_context(fake))
    seed(controller.services, service(publishNotReadyAddresses=True))
    seed(controller.pods, *PODS[:2])
    await controller.reconcile("ns/web")
    endpoints = fake.stored(ENDPOINTS, "web", "ns")
    assert endpoints is not None
    assert [a["ip"] for a in endpoints["subsets"][0]["addresses"]] == ["10.42.0.2", "10.42.0.3"]

    seed(controller.endpoints, endpoints)
    controller.services.apply_event("DELETED", service())
    await controller.reconcile("ns/web")
    assert fake.stored(ENDPOINTS, "web", "ns") is None


async def test_a_service_without_selector_is_not_touched() -> None:
    fake = FakeClient()
    controller = EndpointsController(make_context(fake))
    seed(controller.services, {**service(), "spec": {"ports": [{"port": 443}]}})
    await controller.reconcile("ns/web")
    assert fake.actions == []


async def test_slices_carry_conditions_labels_and_owner() -> None:
    fake = FakeClient()
    controller = EndpointSliceController(make_context(fake))
    seed(controller.services, service())
    seed(controller.pods, *PODS)
    await controller.reconcile("ns/web")
    slices = fake.items(ENDPOINTSLICES, "ns")
    assert len(slices) == 2
    by_port = {s["ports"][0]["port"]: s for s in slices}
    main = by_port[8080]
    assert main["addressType"] == "IPv4"
    assert main["metadata"]["labels"] == {
        "tier": "front",
        SERVICE_NAME_LABEL: "web",
        MANAGED_BY_LABEL: MANAGED_BY,
    }
    assert main["metadata"]["ownerReferences"][0]["uid"] == "uid-web"
    conditions = {e["addresses"][0]: e["conditions"] for e in main["endpoints"]}
    assert conditions == {
        "10.42.0.2": {"ready": True, "serving": True, "terminating": False},
        "10.42.0.3": {"ready": False, "serving": False, "terminating": False},
        "10.42.0.5": {"ready": False, "serving": True, "terminating": True},
    }


async def test_slices_hold_at_most_100_endpoints_and_go_with_the_service() -> None:
    fake = FakeClient()
    controller = EndpointSliceController(make_context(fake))
    seed(controller.services, service())
    seed(controller.pods, *(pod(f"p{i}", f"10.42.{i // 200}.{i % 200 + 2}", ready=True) for i in range(250)))
    await controller.reconcile("ns/web")
    sizes = sorted(len(s["endpoints"]) for s in fake.items(ENDPOINTSLICES, "ns"))
    assert sizes == [50, 100, 100]

    seed(controller.slices, *fake.items(ENDPOINTSLICES, "ns"))
    controller.services.apply_event("DELETED", service())
    await controller.reconcile("ns/web")
    assert fake.items(ENDPOINTSLICES, "ns") == []


async def test_a_headless_service_without_ports_publishes_addresses_and_hostnames() -> None:
    fake = FakeClient()
    controller = EndpointsController(make_context(fake))
    seed(controller.services, service(clusterIP="None", ports=[]))
    named = pod("a", "10.42.0.2", ready=True)
    named["spec"].update(hostname="db-0", subdomain="web")
    seed(controller.pods, named)
    await controller.reconcile("ns/web")
    endpoints = fake.stored(ENDPOINTS, "web", "ns")
    assert endpoints is not None
    assert endpoints["metadata"]["labels"] == {"tier": "front", "service.kubernetes.io/headless": ""}
    [subset] = endpoints["subsets"]
    assert "ports" not in subset
    assert subset["addresses"][0]["hostname"] == "db-0"
