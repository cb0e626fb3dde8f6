"""What a Service's spec asks of the allocators, read defensively (values are already type-checked, but a
field may be absent)."""

from __future__ import annotations

from typing import Any

HEADLESS = "None"


def spec_of(svc: dict[str, Any]) -> dict[str, Any]:
    spec = svc.get("spec")
    return spec if isinstance(spec, dict) else {}


def ports_of(svc: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in spec_of(svc).get("ports") or [] if isinstance(p, dict)]


def needs_cluster_ip(svc: dict[str, Any]) -> bool:
    """Every type but ExternalName has a cluster IP (or is headless)."""
    return spec_of(svc).get("type") != "ExternalName"


def needs_node_ports(svc: dict[str, Any]) -> bool:
    return spec_of(svc).get("type") in ("NodePort", "LoadBalancer")


def allocates_node_ports(svc: dict[str, Any]) -> bool:
    """Whether ports without a nodePort get one: NodePort always, LoadBalancer unless told not to."""
    spec = spec_of(svc)
    if spec.get("type") == "NodePort":
        return True
    return spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False


def needs_health_check_port(svc: dict[str, Any]) -> bool:
    spec = spec_of(svc)
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def cluster_ips(svc: dict[str, Any]) -> set[str]:
    """The allocated addresses (headless and ExternalName Services have none)."""
    if not needs_cluster_ip(svc):
        return set()
    ips = spec_of(svc).get("clusterIPs") or []
    return {ip for ip in ips if isinstance(ip, str) and ip and ip != HEADLESS}


def _port_number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def node_ports(svc: dict[str, Any]) -> set[int]:
    """The node ports and the health-check node port the Service holds."""
    found = {_port_number(p.get("nodePort")) for p in ports_of(svc)}
    found.add(_port_number(spec_of(svc).get("healthCheckNodePort")))
    found.discard(0)
    return found
