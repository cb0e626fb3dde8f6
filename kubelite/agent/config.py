"""A real node agent's settings, as `kubelite agent` and `kubelite server` fill them in."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path

from kubelite.agent.paths import NodePaths
from kubelite.client import kubeconfig

DEFAULT_CLUSTER_DOMAIN = "cluster.local"
DEFAULT_KUBELET_PORT = 10250


def cluster_dns_address(service_cidr: str) -> str:
    """The cluster DNS Service's address: the tenth of the service range (10.43.0.10 for k3s's default)."""
    return str(ipaddress.ip_network(service_cidr, strict=False)[10])


def default_node_name() -> str:
    return socket.gethostname().lower()


@dataclass(frozen=True)
class AgentConfig:
    client_config: kubeconfig.KubeConfig
    data_dir: Path  # the agent keeps its files in <data_dir>/agent
    node_name: str
    node_ip: str
    runtime: str = "crun"  # or runc
    kubelet_port: int = DEFAULT_KUBELET_PORT
    bind_address: str = "0.0.0.0"
    cluster_dns: tuple[str, ...] = ("10.43.0.10",)
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[dict[str, str], ...] = ()
    insecure_registries: tuple[str, ...] = ()
    # Upstream never falls back to a local copy when a pull fails; kubelite does for unreachable registries.
    strict_image_pulls: bool = False
    # Run this node's pod network (bridge, iptables, pods' veths) inside this network namespace rather than
    # the agent's own: several nodes on one host, and tests that keep pod traffic contained.
    node_netns: str | None = None

    @property
    def paths(self) -> NodePaths:
        return NodePaths(self.data_dir / "agent", self.node_name)
