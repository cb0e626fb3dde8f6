"""The desired iptables rules for a set of `ServicePort`s, as kube-proxy's iptables mode lays them out (pure).

nat: PREROUTING and OUTPUT jump to KL-SERVICES, which sends a ClusterIP (or LoadBalancer/external IP) and
port to the port's KL-SVC-* chain (KL-SVL-* for internalTrafficPolicy Local), and local destinations on to
KL-NODEPORTS. NodePorts and external IPs go through a KL-EXT-* chain that applies externalTrafficPolicy.
SVC/SVL chains spread new connections evenly with `statistic --mode random` (probability 1/n, 1/(n-1), ...)
over KL-SEP-* chains, which DNAT to one endpoint. Packets that need SNAT (hairpin: a pod reaching itself
through its Service; clients outside the cluster CIDR; NodePort traffic under policy Cluster) get mark
0x4000 and are masqueraded in POSTROUTING (KL-POSTROUTING), keeping the client's source port when it is free
(no `--random-fully`, see MASQUERADE below). With sessionAffinity ClientIP, `-m recent`
remembers which SEP a client used. filter: a port with no endpoints at all is REJECTed (the client sees
"connection refused" at once); one whose endpoints all live elsewhere under a Local policy is DROPped.
A port at an address the node serves itself (the cluster DNS address) gets no rules at all: its traffic
must reach the node's own listener.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kubelite.proxy.model import Endpoint, ServicePort, cluster_endpoints, local_endpoints

SERVICES = "KL-SERVICES"
EXTERNAL_SERVICES = "KL-EXTERNAL-SERVICES"
NODEPORTS = "KL-NODEPORTS"
POSTROUTING = "KL-POSTROUTING"
MARK_MASQ = "KL-MARK-MASQ"
CHAIN_PREFIX = "KL-"
MASQ_BIT = "0x4000"
# Port-preserving, unlike kube-proxy's `--random-fully`: a random port per connection maps a new client socket
# onto a tuple the endpoint may still hold in TIME_WAIT (conntrack forgets it first when the client reuses its
# own port), with the TCP timestamps of another socket; the endpoint's PAWS check then rejects the SYN and the
# client waits a SYN retransmission (up to 1 s). Kept ports make a reused tuple the same client socket's.
MASQUERADE = "-j MASQUERADE"

# (table, built-in chain, rule): inserted at position 1, so they run before other software's rules (the CNI
# bridge plugin's ipMasq ACCEPTs in POSTROUTING would otherwise skip our masquerade).
JUMPS: tuple[tuple[str, str, str], ...] = (
    ("nat", "PREROUTING", f"-j {SERVICES}"),
    ("nat", "OUTPUT", f"-j {SERVICES}"),
    ("nat", "POSTROUTING", f"-j {POSTROUTING}"),
    ("filter", "INPUT", f"-m conntrack --ctstate NEW -j {EXTERNAL_SERVICES}"),
    ("filter", "FORWARD", f"-m conntrack --ctstate NEW -j {SERVICES}"),
    ("filter", "FORWARD", f"-m conntrack --ctstate NEW -j {EXTERNAL_SERVICES}"),
    ("filter", "OUTPUT", f"-m conntrack --ctstate NEW -j {SERVICES}"),
)

Chains = dict[str, list[str]]  # chain name -> its rules, each a full `-A CHAIN ...` line


@dataclass
class Ruleset:
    tables: dict[str, Chains] = field(default_factory=lambda: {"nat": {}, "filter": {}})

    def add(self, table: str, chain: str, *rules: str) -> None:
        lines = self.tables[table].setdefault(chain, [])
        lines.extend(f"-A {chain} {rule}" for rule in rules)

    def merge(self, other: Ruleset) -> None:
        """Append `other`'s rules (copied: `other` may be a cached fragment)."""
        for table, chains in other.tables.items():
            mine = self.tables[table]
            for chain, lines in chains.items():
                mine.setdefault(chain, []).extend(lines)


def chain_name(prefix: str, *parts: str) -> str:
    """A stable chain name within iptables' 28 characters: prefix + 16 base32 characters of a hash."""
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:16]


def _sep(port: ServicePort, endpoint: Endpoint) -> str:
    return chain_name("KL-SEP-", port.id, endpoint.address)


def _match(port: ServicePort, destination: str, number: int) -> str:
    comment = f"{port.namespace}/{port.name}" + (f":{port.port_name}" if port.port_name else "")
    protocol = port.protocol
    return (
        f'-m comment --comment "{comment}" -d {destination}/32 -p {protocol} -m {protocol} --dport {number}'
    )


class _Builder:
    """Rules for one port at a time (`port()` returns its fragment), plus the chains every node has."""

    def __init__(self, node_name: str, cluster_cidr: str | None, nodeport_addresses: Sequence[str]) -> None:
        self.node_name = node_name
        self.cluster_cidr = cluster_cidr
        self.rules = Ruleset()
        self.nodeport_jumps = (
            [f"-d {a}/32 -j {NODEPORTS}" for a in nodeport_addresses]
            if nodeport_addresses
            else [f"-m addrtype --dst-type LOCAL -j {NODEPORTS}"]
        )
        self._nodeport_filter = (
            [f"-d {a}/32" for a in nodeport_addresses]
            if nodeport_addresses
            else ["-m addrtype --dst-type LOCAL"]
        )

    @staticmethod
    def base() -> Ruleset:
        rules = Ruleset()
        rules.add("nat", MARK_MASQ, f"-j MARK --or-mark {MASQ_BIT}")
        rules.add(
            "nat",
            POSTROUTING,
            f"-m mark ! --mark {MASQ_BIT}/{MASQ_BIT} -j RETURN",
            f"-j MARK --xor-mark {MASQ_BIT}",  # a re-routed packet must not be masqueraded twice
            MASQUERADE,
        )
        for table in ("nat", "filter"):
            rules.tables[table][SERVICES] = []
        rules.tables["nat"][NODEPORTS] = []
        rules.tables["filter"][EXTERNAL_SERVICES] = []
        return rules

    def port(self, port: ServicePort) -> Ruleset:
        self.rules = Ruleset()
        cluster = cluster_endpoints(port)
        local = local_endpoints(port, self.node_name)
        internal = local if port.internal_local else cluster
        external = local if port.external_local else cluster
        svc, svl = chain_name("KL-SVC-", port.id), chain_name("KL-SVL-", port.id)
        ext = chain_name("KL-EXT-", port.id)
        internal_target = svl if port.internal_local else svc
        refused = "REJECT" if not cluster else "DROP"
        for ip in port.cluster_ips:
            if internal:
                self.rules.add("nat", SERVICES, f"{_match(port, ip, port.port)} -j {internal_target}")
            else:
                self.rules.add("filter", SERVICES, f"{_match(port, ip, port.port)} -j {refused}")
        for ip in port.external_ips:
            if external:
                self.rules.add("nat", SERVICES, f"{_match(port, ip, port.port)} -j {ext}")
            else:
                self.rules.add("filter", SERVICES, f"{_match(port, ip, port.port)} -j {refused}")
        if port.node_port:
            where = f"-p {port.protocol} -m {port.protocol} --dport {port.node_port}"
            if external:
                self.rules.add("nat", NODEPORTS, f"{where} -j {ext}")
            else:
                self.rules.add(
                    "filter", EXTERNAL_SERVICES, *(f"{m} {where} -j {refused}" for m in self._nodeport_filter)
                )
        has_external = bool(external) and bool(port.node_port or port.external_ips)
        uses_svc = (bool(internal) and not port.internal_local) or has_external
        uses_svl = (bool(internal) and port.internal_local) or (has_external and port.external_local)
        if uses_svc:
            self._service_chain(port, svc, cluster, masquerade_outside=True)
        if uses_svl:
            self._service_chain(port, svl, local, masquerade_outside=False)
        if has_external:
            self._external_chain(port, ext, svc, svl)
        return self.rules

    def _service_chain(
        self, port: ServicePort, chain: str, endpoints: list[Endpoint], *, masquerade_outside: bool
    ) -> None:
        self.rules.tables["nat"].setdefault(chain, [])
        if masquerade_outside and self.cluster_cidr:
            for ip in port.cluster_ips:
                self.rules.add(
                    "nat", chain, f"! -s {self.cluster_cidr} {_match(port, ip, port.port)} -j {MARK_MASQ}"
                )
        seps = [_sep(port, e) for e in endpoints]
        if port.affinity_seconds is not None:
            self.rules.add(
                "nat",
                chain,
                *(
                    f"-m recent --name {sep} --mask 255.255.255.255 --rsource --rcheck "
                    f"--seconds {port.affinity_seconds} --reap -j {sep}"
                    for sep in seps
                ),
            )
        for i, sep in enumerate(seps):
            left = len(seps) - i
            if left > 1:
                self.rules.add(
                    "nat", chain, f"-m statistic --mode random --probability {1 / left:.10f} -j {sep}"
                )
            else:
                self.rules.add("nat", chain, f"-j {sep}")
        for endpoint, sep in zip(endpoints, seps, strict=True):
            if sep not in self.rules.tables["nat"]:
                self._endpoint_chain(port, endpoint, sep)

    def _endpoint_chain(self, port: ServicePort, endpoint: Endpoint, sep: str) -> None:
        remember = (
            f"-m recent --name {sep} --mask 255.255.255.255 --rsource --set " if port.affinity_seconds else ""
        )
        self.rules.add(
            "nat",
            sep,
            f"-s {endpoint.ip}/32 -j {MARK_MASQ}",  # hairpin: the reply must come back through this node
            f"-p {port.protocol} -m {port.protocol} {remember}-j DNAT --to-destination {endpoint.address}",
        )

    def _external_chain(self, port: ServicePort, ext: str, svc: str, svl: str) -> None:
        if not port.external_local:
            self.rules.add("nat", ext, f"-j {MARK_MASQ}", f"-j {svc}")
            return
        # Policy Local keeps the client's address, so only this node's endpoints qualify; pods and the node
        # itself still reach every endpoint (they are not the external clients the policy is about).
        if self.cluster_cidr:
            self.rules.add("nat", ext, f"-s {self.cluster_cidr} -j {svc}")
        self.rules.add(
            "nat",
            ext,
            f"-m addrtype --src-type LOCAL -j {MARK_MASQ}",
            f"-m addrtype --src-type LOCAL -j {svc}",
            f"-j {svl}",
        )


def proxied(ports: Iterable[ServicePort], node_local_ips: frozenset[str]) -> list[ServicePort]:
    """The ports the proxy handles: all but those whose cluster IP the node answers at itself."""
    return [p for p in ports if node_local_ips.isdisjoint(p.cluster_ips)]


def build(
    ports: Iterable[ServicePort],
    *,
    node_name: str,
    cluster_cidr: str | None,
    nodeport_addresses: Sequence[str] = (),
    cache: dict[ServicePort, Ruleset] | None = None,
) -> Ruleset:
    """Every KL chain with its rules. `nodeport_addresses` limits NodePorts to those IPs (default: every
    local address, 127.0.0.1 included). `cache` (kept by the caller between builds with the same settings)
    holds each port's rules, so only changed ports are rebuilt; it is left holding just `ports`."""
    builder = _Builder(node_name, cluster_cidr, nodeport_addresses)
    result = builder.base()
    fresh: dict[ServicePort, Ruleset] = {}
    for port in sorted(ports, key=lambda p: p.id):
        fragment = cache.get(port) if cache is not None else None
        fresh[port] = fragment if fragment is not None else builder.port(port)
        result.merge(fresh[port])
    if cache is not None:
        cache.clear()
        cache.update(fresh)
    # NodePorts come last: a ClusterIP that happens to be local must still match its own rule first.
    result.add("nat", SERVICES, *builder.nodeport_jumps)
    return result
