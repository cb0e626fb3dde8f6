"""What the proxy programs, read from Services and EndpointSlices: one `ServicePort` per Service port.

Only IPv4 is handled. ExternalName and headless Services get no entry (nothing to proxy). Endpoints are
chosen as kube-proxy does: ready ones; when none is ready, the ones still serving while terminating (so a
rolling update drains instead of refusing). A named targetPort needs no resolving here: the EndpointSlice's
port with the Service port's name already carries the number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
DEFAULT_AFFINITY_SECONDS = 10800


@dataclass(frozen=True, slots=True)
class Endpoint:
    ip: str
    port: int
    ready: bool
    serving: bool
    terminating: bool
    node_name: str | None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True, slots=True)
class ServicePort:
    namespace: str
    name: str
    port_name: str
    protocol: str  # tcp, udp or sctp (as iptables spells it)
    cluster_ips: tuple[str, ...]
    port: int
    node_port: int | None
    external_ips: tuple[str, ...]  # spec.externalIPs and status.loadBalancer.ingress[].ip
    affinity_seconds: int | None  # sessionAffinity ClientIP
    external_local: bool  # externalTrafficPolicy Local
    internal_local: bool  # internalTrafficPolicy Local
    endpoints: tuple[Endpoint, ...]

    @property
    def id(self) -> str:
        """`ns/name:port/protocol`, the unit kube-proxy hashes its chain names from."""
        return f"{self.namespace}/{self.name}:{self.port_name}/{self.protocol}"


def _usable(endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    endpoints = list(endpoints)
    ready = [e for e in endpoints if e.ready]
    return ready or [e for e in endpoints if e.serving and e.terminating]


def cluster_endpoints(port: ServicePort) -> list[Endpoint]:
    return _usable(port.endpoints)


def local_endpoints(port: ServicePort, node_name: str) -> list[Endpoint]:
    return _usable(e for e in port.endpoints if e.node_name == node_name)


def _ipv4(addresses: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(a) for a in addresses if a and ":" not in str(a) and str(a) != "None")


def _endpoints_of(slices: Iterable[Mapping[str, Any]], port_name: str, protocol: str) -> tuple[Endpoint, ...]:
    found: dict[str, Endpoint] = {}
    for slice_ in slices:
        if slice_.get("addressType", "IPv4") != "IPv4":
            continue
        numbers = [
            p.get("port")
            for p in slice_.get("ports") or ()
            if (p.get("name") or "") == port_name and (p.get("protocol") or "TCP").lower() == protocol
        ]
        if not numbers or not numbers[0]:
            continue
        for endpoint in slice_.get("endpoints") or ():
            conditions = endpoint.get("conditions") or {}
            ready = conditions.get("ready") is not False  # unset means ready
            serving = conditions.get("serving", ready) is not False
            for ip in _ipv4(endpoint.get("addresses") or ()):
                found.setdefault(
                    f"{ip}:{numbers[0]}",
                    Endpoint(
                        ip=ip,
                        port=int(numbers[0]),
                        ready=ready,
                        serving=serving,
                        terminating=bool(conditions.get("terminating")),
                        node_name=endpoint.get("nodeName"),
                    ),
                )
    return tuple(found[k] for k in sorted(found))


def service_ports(service: Mapping[str, Any], slices: Iterable[Mapping[str, Any]]) -> list[ServicePort]:
    """The Service's ports with their endpoints (from the Service's slices); [] when nothing is proxied."""
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return []
    cluster_ips = _ipv4(spec.get("clusterIPs") or [spec.get("clusterIP")])
    if not cluster_ips:
        return []  # headless (or IPv6 only)
    meta = service.get("metadata") or {}
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
    external = _ipv4([*(spec.get("externalIPs") or ()), *(i.get("ip") for i in ingress)])
    affinity = None
    if spec.get("sessionAffinity") == "ClientIP":
        config = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
        affinity = int(config.get("timeoutSeconds") or DEFAULT_AFFINITY_SECONDS)
    slices = list(slices)
    out = []
    for port in spec.get("ports") or ():
        protocol = str(port.get("protocol") or "TCP").lower()
        port_name = str(port.get("name") or "")
        out.append(
            ServicePort(
                namespace=str(meta.get("namespace", "")),
                name=str(meta.get("name", "")),
                port_name=port_name,
                protocol=protocol,
                cluster_ips=cluster_ips,
                port=int(port["port"]),
                node_port=int(port["nodePort"]) if port.get("nodePort") else None,
                external_ips=external,
                affinity_seconds=affinity,
                external_local=spec.get("externalTrafficPolicy") == "Local",
                internal_local=spec.get("internalTrafficPolicy") == "Local",
                endpoints=_endpoints_of(slices, port_name, protocol),
            )
        )
    return out
