"""Stale UDP conntrack entries, which iptables changes alone do not fix (pure: returns conntrack arguments).

NAT rules only see a flow's first packet; later UDP packets follow the conntrack entry. So a client that sent
to a Service while it had no endpoints (packets rejected, entry without DNAT) or to an endpoint that is gone
keeps being black-holed for as long as it reuses its source port — DNS resolvers do. As kube-proxy does,
after a sync: a UDP port that just got endpoints has its entries to the Service's addresses dropped, and
entries DNATed to a removed endpoint are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubelite.proxy.model import ServicePort, cluster_endpoints

UdpState = dict[str, frozenset[str]]  # UDP ServicePort id -> endpoint ip:port it balances over


def udp_state(ports: Iterable[ServicePort]) -> UdpState:
    return {p.id: frozenset(e.address for e in cluster_endpoints(p)) for p in ports if p.protocol == "udp"}


def stale_flows(before: Mapping[str, frozenset[str]], ports: Iterable[ServicePort]) -> list[list[str]]:
    """`conntrack -D` argument lists for the UDP entries the change from `before` to `ports` left stale."""
    commands: list[list[str]] = []
    for port in ports:
        if port.protocol != "udp":
            continue
        previous = before.get(port.id, frozenset())
        now = {e.address for e in cluster_endpoints(port)}
        if now and not previous:
            for ip in (*port.cluster_ips, *port.external_ips):
                commands.append(["-D", "-p", "udp", "--orig-dst", ip, "--orig-port-dst", str(port.port)])
            if port.node_port:
                commands.append(["-D", "-p", "udp", "--orig-port-dst", str(port.node_port)])
        for gone in sorted(previous - now):
            ip = gone.rsplit(":", 1)[0]
            for service_ip in (*port.cluster_ips, *port.external_ips):
                commands.append(["-D", "-p", "udp", "--orig-dst", service_ip, "--dst-nat", ip])
    return commands
