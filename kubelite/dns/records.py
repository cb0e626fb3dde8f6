"""Cluster DNS answers, computed from informer caches of Services, EndpointSlices and Namespaces.

Semantics follow the Kubernetes DNS specification as CoreDNS's kubernetes plugin serves it:

- `<svc>.<ns>.svc.<zone>`: the ClusterIPs; for a headless Service the addresses of its ready endpoints;
  for an ExternalName Service a CNAME. A headless Service without ready endpoints does not exist (NXDOMAIN).
- `<endpoint>.<svc>.<ns>.svc.<zone>`: one endpoint, named by its hostname or else by its dashed IP.
- `_<port>._<proto>.<svc>.<ns>.svc.<zone>`: SRV for a named port (one per endpoint when headless).
- `<dashed-ip>.<ns>.pod.<zone>`: the IP itself ("pods insecure": not checked against any pod).
- PTR for ClusterIPs and endpoint IPs; `dns-version.<zone>` TXT; the zone's SOA.
A name that exists without a record of the asked type is NODATA (NOERROR, empty), not NXDOMAIN; both carry the
SOA in the authority section. Lookups are case-insensitive. Everything here is a dict lookup or an index hit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.PTR import PTR
from dns.rdtypes.ANY.SOA import SOA
from dns.rdtypes.ANY.TXT import TXT
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA
from dns.rdtypes.IN.SRV import SRV

from kubelite.client.cache import Cache, Snapshot

DEFAULT_TTL = 5  # CoreDNS's kubernetes plugin default
SCHEMA_VERSION = b"1.1.0"  # of the DNS specification, served at dns-version.<zone>
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

# Indexes the server adds to the shared informers' caches (names private to DNS, so no clash).
CLUSTER_IP_INDEX = "dns.cluster-ip"
SLICE_SERVICE_INDEX = "dns.service"
SLICE_ADDRESS_INDEX = "dns.address"

IN = dns.rdataclass.IN
_REVERSE = (dns.name.from_text("in-addr.arpa."), dns.name.from_text("ip6.arpa."))
_ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# dnspython's rdata constructors are untyped; every record is made through this table.
_CLASSES: dict[int, Callable[..., dns.rdata.Rdata]] = {
    dns.rdatatype.A: A,
    dns.rdatatype.AAAA: AAAA,
    dns.rdatatype.CNAME: CNAME,
    dns.rdatatype.PTR: PTR,
    dns.rdatatype.SOA: SOA,
    dns.rdatatype.SRV: SRV,
    dns.rdatatype.TXT: TXT,
}


def _rdata(rdtype: int, *fields: object) -> dns.rdata.Rdata:
    return _CLASSES[rdtype](IN, rdtype, *fields)


def by_cluster_ip(service: Snapshot) -> Iterable[str]:
    spec = service.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [ip for ip in ips if ip and ip != "None"]


def by_owning_service(endpoint_slice: Snapshot) -> Iterable[str]:
    meta = endpoint_slice.get("metadata") or {}
    name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
    return (f"{meta.get('namespace')}/{name}",) if name else ()


def by_endpoint_address(endpoint_slice: Snapshot) -> Iterable[str]:
    return [a for ep in endpoint_slice.get("endpoints") or () for a in ep.get("addresses") or ()]


@dataclass
class Answer:
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    additional: list[dns.rrset.RRset] = field(default_factory=list)
    # An ExternalName's target outside the cluster zone: the server resolves it upstream and appends.
    chase: dns.name.Name | None = None
    # The one namespace whose objects decided this answer (None: maybe any, e.g. through a CNAME).
    namespace: str | None = None


@dataclass(frozen=True)
class _Endpoint:
    name: str  # hostname, or the dashed IP
    ip: IP
    ports: tuple[Snapshot, ...]  # the slice's ports


def dashed(ip: IP) -> str:
    return str(ip).replace(".", "-").replace(":", "-")


def _undash(label: str) -> IP | None:
    for text in (label.replace("-", "."), label.replace("-", ":")):
        try:
            return ipaddress.ip_address(text)
        except ValueError:
            continue
    return None


def _address_rdata(ip: IP) -> dns.rdata.Rdata:
    if ip.version == 4:
        return _rdata(dns.rdatatype.A, str(ip))
    return _rdata(dns.rdatatype.AAAA, str(ip))


def _rdtype_of(ip: IP) -> int:
    return dns.rdatatype.A if ip.version == 4 else dns.rdatatype.AAAA


class ClusterRecords:
    """Answers for one cluster zone (e.g. `cluster.local`) and the reverse zones, from three caches."""

    def __init__(
        self,
        zone: str,
        *,
        services: Cache,
        slices: Cache,
        namespaces: Cache,
        ttl: int = DEFAULT_TTL,
        serial: int = 1,
    ) -> None:
        self.zone = dns.name.from_text(zone.lower().strip("."))
        self.ttl = ttl
        self._services, self._slices, self._namespaces = services, slices, namespaces
        self._soa = dns.rrset.from_rdata(
            self.zone,
            ttl,
            _rdata(
                dns.rdatatype.SOA,
                dns.name.from_text("ns.dns", self.zone),
                dns.name.from_text("hostmaster", self.zone),
                serial,
                7200,
                1800,
                86400,
                ttl,
            ),
        )

    def resolve(self, qname: dns.name.Name, rdtype: int, *, depth: int = 0) -> Answer | None:
        """The answer for (qname, rdtype), or None when the name is not the cluster's (to be forwarded)."""
        if qname.is_subdomain(self.zone):
            return self._in_zone(qname, rdtype, depth)
        if rdtype == dns.rdatatype.PTR and any(qname.is_subdomain(z) for z in _REVERSE):
            return self._reverse(qname)
        return None

    # The cluster zone

    def _in_zone(self, qname: dns.name.Name, rdtype: int, depth: int) -> Answer:
        labels = [label.decode("ascii", "replace").lower() for label in qname.relativize(self.zone).labels]
        if not labels:
            if rdtype == dns.rdatatype.SOA:
                return Answer(answer=[self._soa])
            return self._nodata()
        if labels == ["dns-version"]:
            if rdtype == dns.rdatatype.TXT:
                return Answer(answer=[self._rrset(qname, _rdata(dns.rdatatype.TXT, [SCHEMA_VERSION]))])
            return self._nodata()
        kind, rest = labels[-1], labels[:-1]
        if not rest:
            return self._nodata() if kind in ("svc", "pod") else self._nxdomain()
        if kind == "svc":
            answer = self._service_names(qname, rdtype, rest, depth)
        elif kind == "pod":
            answer = self._pod_names(qname, rdtype, rest)
        else:
            return self._nxdomain()
        if not answer.answer or answer.answer[0].rdtype != dns.rdatatype.CNAME:
            answer.namespace = rest[-1]
        return answer

    def _pod_names(self, qname: dns.name.Name, rdtype: int, rest: list[str]) -> Answer:
        namespace = rest[-1]
        if self._namespaces.get_by_name(namespace) is None or len(rest) > 2:
            return self._nxdomain()
        if len(rest) == 1:
            return self._nodata()
        ip = _undash(rest[0])
        if ip is None:
            return self._nxdomain()
        return self._addresses(qname, rdtype, [ip])

    def _service_names(self, qname: dns.name.Name, rdtype: int, rest: list[str], depth: int) -> Answer:
        namespace = rest[-1]
        if len(rest) == 1:
            return self._nodata() if self._namespaces.get_by_name(namespace) is not None else self._nxdomain()
        service = self._services.get_by_name(rest[-2], namespace=namespace)
        if service is None or len(rest) > 4:
            return self._nxdomain()
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            return self._external_name(qname, rdtype, str(spec.get("externalName", "")), depth)
        headless = spec.get("clusterIP") == "None"
        endpoints = self._endpoints(service) if headless or len(rest) == 3 else []
        if len(rest) == 3:  # <endpoint>.<svc>.<ns>.svc
            chosen = [ep for ep in endpoints if ep.name == rest[0]]
            if not chosen:
                return self._nxdomain()
            return self._addresses(qname, rdtype, [ep.ip for ep in chosen])
        service_name = qname.parent().parent() if len(rest) == 4 else qname
        port, proto = (_strip(rest[0]), _strip(rest[1]).upper()) if len(rest) == 4 else (None, None)
        if headless:
            return self._headless(qname, service_name, rdtype, endpoints, port, proto)
        ports = [p for p in spec.get("ports") or () if _port_matches(p, port, proto)]
        if port is not None and not ports:
            return self._nxdomain()
        ips = [ipaddress.ip_address(ip) for ip in by_cluster_ip(service)]
        if rdtype != dns.rdatatype.SRV:
            return self._addresses(qname, rdtype, ips)
        answer = Answer(answer=self._srv(qname, [(int(p["port"]), service_name) for p in ports]))
        answer.additional = self._address_rrsets(service_name, ips)
        return answer if answer.answer else self._nodata()

    def _headless(
        self,
        qname: dns.name.Name,
        service_name: dns.name.Name,
        rdtype: int,
        endpoints: list[_Endpoint],
        port: str | None,
        proto: str | None,
    ) -> Answer:
        if port is not None:
            endpoints = [ep for ep in endpoints if any(_port_matches(p, port, proto) for p in ep.ports)]
        if not endpoints:
            return self._nxdomain()
        if rdtype != dns.rdatatype.SRV:
            return self._addresses(qname, rdtype, sorted({ep.ip for ep in endpoints}, key=str))
        targets: list[tuple[int, dns.name.Name]] = []
        answer = Answer()
        for ep in endpoints:
            target = dns.name.from_text(ep.name, service_name)
            for p in ep.ports:
                if _port_matches(p, port, proto) and p.get("port") is not None:
                    targets.append((int(p["port"]), target))
            answer.additional += self._address_rrsets(target, [ep.ip])
        answer.answer = self._srv(qname, targets)
        return answer if answer.answer else self._nodata()

    def _external_name(self, qname: dns.name.Name, rdtype: int, target_text: str, depth: int) -> Answer:
        if not target_text.strip("."):
            return self._nxdomain()
        try:
            target = dns.name.from_text(target_text.strip(".") + ".")
        except dns.exception.DNSException:  # the API server validates it; an odd one stays unanswered
            return self._nxdomain()
        answer = Answer(answer=[self._rrset(qname, _rdata(dns.rdatatype.CNAME, target))])
        if rdtype == dns.rdatatype.CNAME:
            return answer
        inner = self.resolve(target, rdtype, depth=depth + 1) if depth < 8 else Answer()
        if inner is None:
            answer.chase = target
        else:
            answer.answer += inner.answer
            answer.additional += inner.additional
            answer.chase = inner.chase
        return answer

    def _endpoints(self, service: Snapshot) -> list[_Endpoint]:
        """The ready endpoints of a Service, over all its slices (deduplicated by name and IP)."""
        meta = service.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        found: dict[tuple[str, IP], _Endpoint] = {}
        for ep, ip, ports in _slice_endpoints(self._slices.by_index(SLICE_SERVICE_INDEX, key)):
            if (ep.get("conditions") or {}).get("ready") is False:
                continue
            name = str(ep.get("hostname") or dashed(ip)).lower()
            found.setdefault((name, ip), _Endpoint(name, ip, ports))
        return list(found.values())

    # The reverse zones

    def _reverse(self, qname: dns.name.Name) -> Answer | None:
        try:
            ip = ipaddress.ip_address(dns.reversename.to_address(qname))
        except (ValueError, dns.exception.SyntaxError):
            return None
        text = str(ip)
        targets = [
            dns.name.from_text(f"{s['metadata']['name']}.{s['metadata']['namespace']}.svc", self.zone)
            for s in self._services.by_index(CLUSTER_IP_INDEX, text)
        ]
        for endpoint_slice in self._slices.by_index(SLICE_ADDRESS_INDEX, text):
            service = next(iter(by_owning_service(endpoint_slice)), None)
            for ep, addr, _ in _slice_endpoints([endpoint_slice]):
                if service is not None and addr == ip:
                    namespace, name = service.split("/", 1)
                    label = str(ep.get("hostname") or dashed(ip)).lower()
                    targets.append(dns.name.from_text(f"{label}.{name}.{namespace}.svc", self.zone))
        if not targets:
            return None
        rdatas = [_rdata(dns.rdatatype.PTR, t) for t in dict.fromkeys(targets)]
        return Answer(answer=[self._rrset(qname, *rdatas)])

    # Building answers

    def _addresses(self, qname: dns.name.Name, rdtype: int, ips: list[IP]) -> Answer:
        wanted = _ADDRESS_TYPES if rdtype == dns.rdatatype.ANY else (rdtype,)
        answer = Answer(answer=[rr for rr in self._address_rrsets(qname, ips) if rr.rdtype in wanted])
        return answer if answer.answer else self._nodata()

    def _address_rrsets(self, owner: dns.name.Name, ips: Iterable[IP]) -> list[dns.rrset.RRset]:
        by_type: dict[int, list[dns.rdata.Rdata]] = {}
        for ip in ips:
            by_type.setdefault(_rdtype_of(ip), []).append(_address_rdata(ip))
        return [self._rrset(owner, *rdatas) for _, rdatas in sorted(by_type.items())]

    def _srv(self, qname: dns.name.Name, targets: list[tuple[int, dns.name.Name]]) -> list[dns.rrset.RRset]:
        if not targets:
            return []
        weight = max(1, 100 // len(targets))
        return [self._rrset(qname, *(_rdata(dns.rdatatype.SRV, 0, weight, p, t) for p, t in targets))]

    def _rrset(self, owner: dns.name.Name, *rdatas: dns.rdata.Rdata) -> dns.rrset.RRset:
        return dns.rrset.from_rdata(owner, self.ttl, *rdatas)

    def _nodata(self) -> Answer:
        return Answer(authority=[self._soa])

    def _nxdomain(self) -> Answer:
        return Answer(rcode=dns.rcode.NXDOMAIN, authority=[self._soa])


def _strip(label: str) -> str:
    return label[1:] if label.startswith("_") else label


def _port_matches(port: Snapshot, name: str | None, proto: str | None) -> bool:
    if name is None:
        return True
    return str(port.get("name", "")).lower() == name and str(port.get("protocol", "TCP")) == proto


def _slice_endpoints(
    endpoint_slices: Iterable[Snapshot],
) -> Iterator[tuple[Snapshot, IP, tuple[Snapshot, ...]]]:
    for endpoint_slice in endpoint_slices:
        if endpoint_slice.get("addressType", "IPv4") not in ("IPv4", "IPv6"):
            continue  # FQDN slices name hosts, not addresses
        ports = tuple(endpoint_slice.get("ports") or ())
        for ep in endpoint_slice.get("endpoints") or ():
            for address in ep.get("addresses") or ():
                try:
                    yield ep, ipaddress.ip_address(address), ports
                except ValueError:
                    continue
