"""Cluster DNS as a component of a node: `serve(config, informers)` answers on sockets the caller bound.

On a kubelite node the sockets listen on the cluster DNS address (the service range's tenth), which the
node carries on its loopback, the way NodeLocal DNSCache works: every node answers its own pods, and no
Service rule stands between a pod and its resolver.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from kubelite.client.informer import InformerFactory
from kubelite.dns.server import DnsServer, upstreams_from_resolv_conf


@dataclass(frozen=True)
class DnsConfig:
    cluster_domain: str
    udp: socket.socket
    tcp: socket.socket
    resolv_conf: Path | None = Path("/etc/resolv.conf")  # where other names are forwarded; None: nowhere


async def serve(config: DnsConfig, informers: InformerFactory) -> None:
    """The DNS server on the caller's informer factory (which the caller runs)."""
    text = config.resolv_conf.read_text() if config.resolv_conf is not None else ""
    upstreams = upstreams_from_resolv_conf(text)
    server = DnsServer(informers, cluster_domain=config.cluster_domain, upstreams=upstreams)
    await server.run(udp=config.udp, tcp=config.tcp)
