"""The pure rules behind Service allocation: ranges and their scan order, IP families, and what updates
keep or wipe; plus a pod's QoS class."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.apiserver.qos import qos_class
from kubelite.apiserver.services import families
from kubelite.apiserver.services.ranges import IPRange, PortRange
from kubelite.apiserver.services.strategy import drop_type_dependent_fields, patch_allocated_values


def test_ip_range_skips_network_and_broadcast_and_scans_the_static_band_last() -> None:
    r = IPRange.parse("10.43.0.0/16")
    assert (r.size, r.address(0), r.address(r.size - 1)) == (65534, "10.43.0.1", "10.43.255.254")
    assert (r.offset("10.43.0.0"), r.offset("10.43.255.255"), r.offset("10.44.0.1")) == (None, None, None)
    assert r.offset("10.43.1.0") == 255
    order = [r.offset(a) for a in r.candidates()]
    assert sorted(order) == list(range(r.size))  # every address, once
    assert set(order[-256:]) == set(range(256))  # the static band comes last


def test_small_and_ipv6_ranges() -> None:
    tiny = IPRange.parse("10.99.0.0/30")
    assert sorted(tiny.candidates()) == ["10.99.0.1", "10.99.0.2"]
    v6 = IPRange.parse("fd00::/64")
    assert (v6.family, v6.size, v6.address(0)) == ("IPv6", 2**16, "fd00::1")
    with pytest.raises(ValueError):
        IPRange.parse("10.0.0.1/32")


def test_port_range() -> None:
    ports = PortRange.parse("30000-32767")
    assert (str(ports), ports.contains(30000), ports.contains(32768)) == ("30000-32767", True, False)
    order = list(ports.candidates())
    assert sorted(order) == list(range(30000, 32768))
    assert set(order[-86:]) == set(range(30000, 30086))
    with pytest.raises(ValueError):
        PortRange.parse("0-10")


def _svc(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "s"}, "spec": {"type": "ClusterIP", **spec}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, (["IPv4"], "SingleStack")),
        ({"clusterIPs": ["10.43.0.9"], "clusterIP": "10.43.0.9"}, (["IPv4"], "SingleStack")),
        ({"ipFamilyPolicy": "PreferDualStack"}, (["IPv4"], "PreferDualStack")),
        ({"clusterIP": "None", "clusterIPs": ["None"]}, (["IPv4", "IPv6"], "RequireDualStack")),
        ({"clusterIP": "None", "clusterIPs": ["None"], "selector": {"a": "b"}}, (["IPv4"], "SingleStack")),
    ],
)
def test_families_are_settled(spec: dict[str, Any], expected: tuple[list[str], str]) -> None:
    svc = _svc(**spec)
    assert families.settle(svc, None, cluster_family="IPv4") == []
    assert (svc["spec"]["ipFamilies"], svc["spec"]["ipFamilyPolicy"]) == expected


def test_families_this_cluster_lacks_are_refused() -> None:
    causes = families.settle(_svc(ipFamilies=["IPv6"]), None, cluster_family="IPv4")
    assert [str(c) for c in causes] == [
        'spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster'
    ]
    external = {"spec": {"type": "ExternalName", "externalName": "x.example"}}
    assert (
        families.settle(external, None, cluster_family="IPv4") == [] and "ipFamilies" not in external["spec"]
    )


def _node_port_service() -> dict[str, Any]:
    return {
        "metadata": {"name": "s"},
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.43.0.5",
            "clusterIPs": ["10.43.0.5"],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "externalTrafficPolicy": "Cluster",
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}],
        },
        "status": {"loadBalancer": {}},
    }


def test_an_update_that_leaves_allocated_values_out_keeps_them() -> None:
    old = _node_port_service()
    new = copy.deepcopy(old)
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        del new["spec"][field]
    del new["spec"]["ports"][0]["nodePort"]
    patch_allocated_values(new, old)
    assert new == old


def test_a_type_change_wipes_what_the_new_type_does_not_use() -> None:
    old = _node_port_service()
    to_cluster_ip = copy.deepcopy(old)
    to_cluster_ip["spec"]["type"] = "ClusterIP"
    drop_type_dependent_fields(to_cluster_ip, old)
    assert "nodePort" not in to_cluster_ip["spec"]["ports"][0]
    assert (
        "externalTrafficPolicy" not in to_cluster_ip["spec"]
        and to_cluster_ip["spec"]["clusterIP"] == "10.43.0.5"
    )

    to_external = copy.deepcopy(old)
    to_external["spec"].update(type="ExternalName", externalName="x.example")
    drop_type_dependent_fields(to_external, old)
    assert not {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"} & set(to_external["spec"])

    changed_by_the_client = copy.deepcopy(old)
    changed_by_the_client["spec"].update(type="ClusterIP")
    changed_by_the_client["spec"]["ports"][0]["nodePort"] = 30081
    drop_type_dependent_fields(changed_by_the_client, old)
    assert changed_by_the_client["spec"]["ports"][0]["nodePort"] == 30081  # left for validation to refuse


def _pod(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]}}


def test_qos_classes() -> None:
    both = {"cpu": "500m", "memory": "128Mi"}
    assert qos_class(_pod({})) == "BestEffort"
    assert qos_class(_pod({"limits": both, "requests": dict(both)})) == "Guaranteed"
    assert qos_class(_pod({"limits": both, "requests": {"cpu": "250m", "memory": "128Mi"}})) == "Burstable"
    assert qos_class(_pod({"limits": both, "requests": dict(both)}, {})) == "Burstable"
    assert qos_class(_pod({"requests": {"cpu": "0"}})) == "BestEffort"
