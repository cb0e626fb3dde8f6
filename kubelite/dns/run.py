"""Cluster DNS as its own component: `run(config)` answers on sockets the caller made and bound.

On a kubelite node the sockets listen on the cluster DNS address (the service range's tenth), which the
node carries on its loopback, the way NodeLocal DNSCache works: every node answers its own pods, and no
Service rule stands between a pod and its resolver.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

from kubelite.client import kubeconfig
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.dns.server import DnsServer, upstreams_from_resolv_conf


@dataclass(frozen=True)
class DnsConfig:
    client_config: kubeconfig.KubeConfig
    node_name: str
    cluster_domain: str
    udp: socket.socket
    tcp: socket.socket
    resolv_conf: Path | None = Path("/etc/resolv.conf")  # where other names are forwarded; None: nowhere


async def run(config: DnsConfig) -> None:
    text = config.resolv_conf.read_text() if config.resolv_conf is not None else ""
    async with RestClient(config.client_config, user_agent=f"kubelite-dns/{config.node_name}") as client:
        informers = InformerFactory(client)
        server = DnsServer(
            informers, cluster_domain=config.cluster_domain, upstreams=upstreams_from_resolv_conf(text)
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(informers.run(), name="dns informers")
            group.create_task(server.run(udp=config.udp, tcp=config.tcp), name="cluster dns")
