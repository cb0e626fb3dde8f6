"""Table columns of services (NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, wide SELECTOR), endpoints and
endpointslices.

EXTERNAL-IP depends on the type: external IPs for ClusterIP/NodePort (`<none>` without), the load balancer's
ingress points plus external IPs for LoadBalancer (`<pending>` until one is assigned), the DNS name for
ExternalName. Endpoint lists show the first three addresses and count the rest (`+ 2 more...`).
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import AGE, NAME, Column, Row, age, name_of, register
from kubelite.apiserver.tables.formats import NONE, first_items, format_labels


def _load_balancer_points(status: dict[str, Any]) -> list[str]:
    ingress = ((status.get("loadBalancer") or {}).get("ingress")) or []
    return sorted({point.get("ip") or point.get("hostname") for point in ingress} - {None, ""})


def _external_ip(spec: dict[str, Any], status: dict[str, Any]) -> str:
    kind = spec.get("type", "")
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if kind == "LoadBalancer":
        points = _load_balancer_points(status)
        return ",".join(points + external) or "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _ports(ports: list[dict[str, Any]]) -> str:
    pieces = []
    for port in ports:
        protocol = port.get("protocol", "")
        node_port = int(port.get("nodePort") or 0)
        middle = f":{node_port}" if node_port > 0 else ""
        pieces.append(f"{port.get('port', 0)}{middle}/{protocol}")
    return ",".join(pieces) or NONE


def _service(svc: dict[str, Any], now: datetime.datetime) -> Row:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [
        name_of(svc),
        spec.get("type", ""),
        cluster_ips[0] if cluster_ips else NONE,
        _external_ip(spec, status),
        _ports(spec.get("ports") or []),
        age(svc, now),
        format_labels(spec.get("selector")),
    ]


def _host_port(host: str, port: Any) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoints_text(subsets: list[dict[str, Any]]) -> str:
    """`10.0.0.1:80,10.0.0.2:80 + 1 more...`: one entry per address and port."""
    if not subsets:
        return NONE
    shown: list[str] = []
    total = 0
    for subset in subsets:
        addresses = [str(a.get("ip", "")) for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:  # a headless service without ports lists bare addresses
            total += len(addresses)
            shown.extend(addresses)
            continue
        for port in ports:
            total += len(addresses)
            shown.extend(_host_port(ip, port.get("port", 0)) for ip in addresses)
    text = ",".join(shown[:3])
    return f"{text} + {total - 3} more..." if total > 3 else text


def _endpoints(obj: dict[str, Any], now: datetime.datetime) -> Row:
    return [name_of(obj), _endpoints_text(obj.get("subsets") or []), age(obj, now)]


def _slice_port(port: dict[str, Any]) -> str:
    if port.get("port") is not None:
        return str(port["port"])
    if port.get("name") is not None:
        return str(port["name"])
    return "*"


def _endpoint_slice(obj: dict[str, Any], now: datetime.datetime) -> Row:
    ports = [_slice_port(p) for p in obj.get("ports") or []]
    addresses = [str(a) for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return [
        name_of(obj),
        obj.get("addressType", ""),
        first_items(ports),
        first_items(addresses),
        age(obj, now),
    ]


register(
    "",
    "services",
    (
        NAME,
        Column(
            "Type", description="How the service is exposed: ClusterIP, NodePort, LoadBalancer, ExternalName."
        ),
        Column("Cluster-IP", description="The IP address assigned to the service inside the cluster."),
        Column("External-IP", description="Addresses the service is reachable at from outside the cluster."),
        Column("Port(s)", description="The ports exposed by the service."),
        AGE,
        Column("Selector", priority=1, description="Labels of the pods that receive the service's traffic."),
    ),
    _service,
)
register(
    "",
    "endpoints",
    (NAME, Column("Endpoints", description="The addresses and ports of the endpoints."), AGE),
    _endpoints,
)
register(
    "discovery.k8s.io",
    "endpointslices",
    (
        NAME,
        Column("AddressType", description="The type of address carried by this EndpointSlice."),
        Column("Ports", description="The network ports exposed by each endpoint."),
        Column("Endpoints", description="The addresses of the endpoints in this slice."),
        AGE,
    ),
    _endpoint_slice,
)
