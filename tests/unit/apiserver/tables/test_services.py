"""Services, endpoints and endpointslices."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.apiserver.tables.printing import cells, headers, meta

WEB_PORTS = [
    {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
    {"name": "https", "port": 443, "protocol": "TCP", "nodePort": 30443},
    {"name": "dns", "port": 53, "protocol": "UDP"},
]


def _service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": meta("web"), "spec": spec, "status": status or {}}


def test_service_headers() -> None:
    assert headers("", "services") == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert headers("", "services", wide=True)[6:] == ["SELECTOR"]


def test_cluster_ip_service() -> None:
    spec = {
        "type": "ClusterIP",
        "clusterIP": "10.43.0.10",
        "clusterIPs": ["10.43.0.10", "fd00::10"],
        "ports": WEB_PORTS,
        "selector": {"app": "web", "tier": "front"},
    }
    assert cells("", "services", _service(spec)) == [
        "web",
        "ClusterIP",
        "10.43.0.10",
        "<none>",
        "80/TCP,443:30443/TCP,53/UDP",
        "5m",
        "app=web,tier=front",
    ]


@pytest.mark.parametrize(
    ("spec", "status", "external"),
    [
        ({"type": "ClusterIP", "externalIPs": ["1.2.3.4", "5.6.7.8"]}, {}, "1.2.3.4,5.6.7.8"),
        ({"type": "NodePort"}, {}, "<none>"),
        ({"type": "LoadBalancer"}, {}, "<pending>"),
        ({"type": "LoadBalancer"}, {"loadBalancer": {}}, "<pending>"),
        (
            {"type": "LoadBalancer", "externalIPs": ["9.9.9.9"]},
            {
                "loadBalancer": {
                    "ingress": [{"ip": "192.168.1.20"}, {"hostname": "lb.example"}, {"ip": "10.0.0.5"}]
                }
            },
            "10.0.0.5,192.168.1.20,lb.example,9.9.9.9",
        ),
        ({"type": "LoadBalancer", "externalIPs": ["9.9.9.9"]}, {}, "9.9.9.9"),
        ({"type": "ExternalName", "externalName": "db.example.com"}, {}, "db.example.com"),
        ({}, {}, "<unknown>"),
    ],
)
def test_external_ip(spec: dict[str, Any], status: dict[str, Any], external: str) -> None:
    assert cells("", "services", _service(spec, status))[3] == external


def test_service_without_ports_selector_or_ip() -> None:
    row = cells("", "services", _service({"type": "ExternalName", "externalName": "db.example.com"}))
    assert row == ["web", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"]
    headless = _service({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]})
    assert cells("", "services", headless)[2] == "None"
    # Objects written before clusterIPs existed still show their single clusterIP.
    assert cells("", "services", _service({"type": "ClusterIP", "clusterIP": "10.43.0.1"}))[2] == "10.43.0.1"


def test_endpoints() -> None:
    assert headers("", "endpoints") == ["NAME", "ENDPOINTS", "AGE"]
    subsets = [
        {
            "addresses": [{"ip": "10.42.0.5"}, {"ip": "10.42.0.6"}],
            "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
        },
        {"addresses": [{"ip": "fd00::7"}], "ports": [{"port": 80}]},
    ]
    endpoints = {"metadata": meta("web"), "subsets": subsets}
    assert cells("", "endpoints", endpoints) == [
        "web",
        "10.42.0.5:80,10.42.0.6:80,10.42.0.5:443 + 2 more...",
        "5m",
    ]
    ipv6 = {"metadata": meta("v6"), "subsets": subsets[1:]}
    assert cells("", "endpoints", ipv6)[1] == "[fd00::7]:80"
    headless = {"metadata": meta("h"), "subsets": [{"addresses": [{"ip": "10.42.0.9"}]}]}
    assert cells("", "endpoints", headless)[1] == "10.42.0.9"
    assert cells("", "endpoints", {"metadata": meta("empty")})[1] == "<none>"
    not_ready = {"metadata": meta("nr"), "subsets": [{"notReadyAddresses": [{"ip": "10.0.0.1"}]}]}
    assert cells("", "endpoints", not_ready)[1] == ""


def test_endpoint_slices() -> None:
    assert headers("discovery.k8s.io", "endpointslices") == [
        "NAME",
        "ADDRESSTYPE",
        "PORTS",
        "ENDPOINTS",
        "AGE",
    ]
    sliced = {
        "metadata": meta("web-abc12"),
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80}, {"name": "metrics"}, {}, {"port": 9090}],
        "endpoints": [
            {"addresses": ["10.42.0.5"]},
            {"addresses": ["10.42.0.6", "10.42.0.7"]},
            {"addresses": ["10.42.0.8"]},
        ],
    }
    assert cells("discovery.k8s.io", "endpointslices", sliced) == [
        "web-abc12",
        "IPv4",
        "80,metrics,* + 1 more...",
        "10.42.0.5,10.42.0.6,10.42.0.7 + 1 more...",
        "5m",
    ]
    empty = {"metadata": meta("empty"), "addressType": "IPv6"}
    assert cells("discovery.k8s.io", "endpointslices", empty)[1:4] == ["IPv6", "<unset>", "<unset>"]
