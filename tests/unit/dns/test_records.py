"""ClusterRecords from hand-made Services, EndpointSlices and Namespaces: names, types, NXDOMAIN vs NODATA."""

from __future__ import annotations

from typing import Any

import dns.name
import dns.rcode
import dns.rdatatype
import dns.reversename
import pytest

from kubelite.client.cache import Cache
from kubelite.dns.records import (
    CLUSTER_IP_INDEX,
    SLICE_ADDRESS_INDEX,
    SLICE_SERVICE_INDEX,
    Answer,
    ClusterRecords,
    by_cluster_ip,
    by_endpoint_address,
    by_owning_service,
)

ZONE = "cluster.local"


def service(name: str, ns: str = "default", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


def endpoint_slice(
    svc: str,
    endpoints: list[dict[str, Any]],
    ports: list[dict[str, Any]],
    ns: str = "default",
    address_type: str = "IPv4",
) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{svc}-abcde", "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
        "addressType": address_type,
        "endpoints": endpoints,
        "ports": ports,
    }


def endpoint(ip: str, hostname: str | None = None, ready: bool = True) -> dict[str, Any]:
    ep: dict[str, Any] = {"addresses": [ip], "conditions": {"ready": ready}}
    if hostname:
        ep["hostname"] = hostname
    return ep


@pytest.fixture
def records() -> ClusterRecords:
    services = Cache({CLUSTER_IP_INDEX: by_cluster_ip})
    slices = Cache({SLICE_SERVICE_INDEX: by_owning_service, SLICE_ADDRESS_INDEX: by_endpoint_address})
    namespaces = Cache()
    for ns in ("default", "other"):
        namespaces.put({"metadata": {"name": ns}})
    http = [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "dns", "port": 53, "protocol": "UDP"}]
    services.put(service("web", clusterIP="10.43.0.20", clusterIPs=["10.43.0.20"], ports=http))
    services.put(service("dual", clusterIP="10.43.0.21", clusterIPs=["10.43.0.21", "fd00:43::21"]))
    services.put(service("db", clusterIP="None", ports=[{"name": "pg", "port": 5432, "protocol": "TCP"}]))
    services.put(service("empty", clusterIP="None"))
    services.put(service("ext", type="ExternalName", externalName="example.org"))
    services.put(service("alias", type="ExternalName", externalName=f"web.default.svc.{ZONE}"))
    pg = [{"name": "pg", "port": 5432, "protocol": "TCP"}]
    slices.put(
        endpoint_slice(
            "db",
            [
                endpoint("10.42.0.5", "db-0"),
                endpoint("10.42.0.6"),
                endpoint("10.42.0.7", "db-2", ready=False),
            ],
            pg,
        )
    )
    slices.put(
        endpoint_slice("web", [endpoint("10.42.0.9")], [{"name": "http", "port": 8080, "protocol": "TCP"}])
    )
    return ClusterRecords(ZONE, services=services, slices=slices, namespaces=namespaces)


def ask(records: ClusterRecords, name: str, rdtype: str = "A") -> Answer:
    answer = records.resolve(dns.name.from_text(name), dns.rdatatype.from_text(rdtype))
    assert answer is not None
    return answer


def texts(answer: Answer, rdtype: str | None = None) -> list[str]:
    return sorted(
        rd.to_text()
        for rr in answer.answer
        for rd in rr
        if rdtype is None or rr.rdtype == dns.rdatatype.from_text(rdtype)
    )


def is_nodata(answer: Answer) -> bool:
    return (
        answer.rcode == dns.rcode.NOERROR
        and not answer.answer
        and answer.authority[0].rdtype == dns.rdatatype.SOA
    )


def is_nxdomain(answer: Answer) -> bool:
    return (
        answer.rcode == dns.rcode.NXDOMAIN
        and not answer.answer
        and answer.authority[0].rdtype == dns.rdatatype.SOA
    )


def test_cluster_ip_service(records: ClusterRecords) -> None:
    answer = ask(records, f"web.default.svc.{ZONE}")
    assert texts(answer) == ["10.43.0.20"]
    assert answer.answer[0].ttl == 5
    assert is_nodata(ask(records, f"web.default.svc.{ZONE}", "AAAA"))
    assert is_nodata(ask(records, f"web.default.svc.{ZONE}", "MX"))
    assert texts(ask(records, f"dual.default.svc.{ZONE}", "AAAA")) == ["fd00:43::21"]


def test_names_are_case_insensitive(records: ClusterRecords) -> None:
    answer = ask(records, "WeB.DeFault.SVC.Cluster.LOCAL")
    assert texts(answer) == ["10.43.0.20"]
    assert answer.answer[0].name.to_text() == "WeB.DeFault.SVC.Cluster.LOCAL."  # the question's spelling


def test_nxdomain_versus_nodata(records: ClusterRecords) -> None:
    assert is_nxdomain(ask(records, f"nope.default.svc.{ZONE}"))
    assert is_nxdomain(ask(records, f"web.missing.svc.{ZONE}"))
    assert is_nxdomain(ask(records, f"missing.svc.{ZONE}"))
    assert is_nxdomain(ask(records, f"something.{ZONE}"))
    assert is_nxdomain(ask(records, f"a.b.c.web.default.svc.{ZONE}"))
    assert is_nodata(ask(records, f"default.svc.{ZONE}"))  # namespaces exist as empty non-terminals
    assert is_nodata(ask(records, f"svc.{ZONE}"))
    assert is_nodata(ask(records, ZONE))
    assert texts(ask(records, ZONE, "SOA")) == [f"ns.dns.{ZONE}. hostmaster.{ZONE}. 1 7200 1800 86400 5"]
    assert texts(ask(records, f"dns-version.{ZONE}", "TXT")) == ['"1.1.0"']


def test_srv_for_named_ports(records: ClusterRecords) -> None:
    answer = ask(records, f"_http._tcp.web.default.svc.{ZONE}", "SRV")
    assert texts(answer) == [f"0 100 80 web.default.svc.{ZONE}."]
    assert [rd.to_text() for rr in answer.additional for rd in rr] == ["10.43.0.20"]
    assert texts(ask(records, f"_dns._udp.web.default.svc.{ZONE}", "SRV")) == [
        f"0 100 53 web.default.svc.{ZONE}."
    ]
    assert is_nxdomain(ask(records, f"_dns._tcp.web.default.svc.{ZONE}", "SRV"))
    assert is_nxdomain(ask(records, f"_nope._tcp.web.default.svc.{ZONE}", "SRV"))
    assert texts(ask(records, f"_http._tcp.web.default.svc.{ZONE}")) == ["10.43.0.20"]
    assert len(texts(ask(records, f"web.default.svc.{ZONE}", "SRV"))) == 2  # every port


def test_headless_service(records: ClusterRecords) -> None:
    assert texts(ask(records, f"db.default.svc.{ZONE}")) == ["10.42.0.5", "10.42.0.6"]  # ready ones only
    srv = ask(records, f"_pg._tcp.db.default.svc.{ZONE}", "SRV")
    assert texts(srv) == [
        f"0 50 5432 10-42-0-6.db.default.svc.{ZONE}.",
        f"0 50 5432 db-0.db.default.svc.{ZONE}.",
    ]
    assert sorted(rr.name.to_text() for rr in srv.additional) == [
        f"10-42-0-6.db.default.svc.{ZONE}.",
        f"db-0.db.default.svc.{ZONE}.",
    ]
    assert texts(ask(records, f"db-0.db.default.svc.{ZONE}")) == ["10.42.0.5"]
    assert texts(ask(records, f"10-42-0-6.db.default.svc.{ZONE}")) == ["10.42.0.6"]
    assert is_nxdomain(ask(records, f"db-2.db.default.svc.{ZONE}"))  # not ready
    assert is_nxdomain(ask(records, f"empty.default.svc.{ZONE}"))  # headless without endpoints
    assert is_nodata(ask(records, f"db-0.db.default.svc.{ZONE}", "AAAA"))


def test_endpoint_names_of_a_cluster_ip_service(records: ClusterRecords) -> None:
    assert texts(ask(records, f"10-42-0-9.web.default.svc.{ZONE}")) == ["10.42.0.9"]


def test_external_name(records: ClusterRecords) -> None:
    answer = ask(records, f"ext.default.svc.{ZONE}")
    assert texts(answer) == ["example.org."]
    assert answer.chase == dns.name.from_text("example.org")
    assert ask(records, f"ext.default.svc.{ZONE}", "CNAME").chase is None
    inside = ask(records, f"alias.default.svc.{ZONE}")
    assert texts(inside) == ["10.43.0.20", f"web.default.svc.{ZONE}."]
    assert inside.chase is None


def test_answers_name_the_namespace_they_depend_on(records: ClusterRecords) -> None:
    assert ask(records, f"web.default.svc.{ZONE}").namespace == "default"
    assert ask(records, f"nope.other.svc.{ZONE}").namespace == "other"
    assert ask(records, f"10-42-0-5.other.pod.{ZONE}").namespace == "other"
    assert ask(records, f"alias.default.svc.{ZONE}").namespace is None  # a CNAME may lead anywhere
    assert ask(records, ZONE).namespace is None


def test_pod_names(records: ClusterRecords) -> None:
    assert texts(ask(records, f"10-42-0-5.default.pod.{ZONE}")) == ["10.42.0.5"]
    assert is_nodata(ask(records, f"10-42-0-5.default.pod.{ZONE}", "AAAA"))
    assert texts(ask(records, f"fd00--5.default.pod.{ZONE}", "AAAA")) == ["fd00::5"]
    assert is_nxdomain(ask(records, f"not-an-ip.default.pod.{ZONE}"))
    assert is_nxdomain(ask(records, f"10-42-0-5.missing.pod.{ZONE}"))
    assert is_nodata(ask(records, f"default.pod.{ZONE}"))


def test_reverse_lookups(records: ClusterRecords) -> None:
    def ptr(ip: str) -> Answer | None:
        return records.resolve(dns.reversename.from_address(ip), dns.rdatatype.PTR)

    service_ptr = ptr("10.43.0.20")
    assert service_ptr is not None and texts(service_ptr) == [f"web.default.svc.{ZONE}."]
    endpoint_ptr = ptr("10.42.0.5")
    assert endpoint_ptr is not None and texts(endpoint_ptr) == [f"db-0.db.default.svc.{ZONE}."]
    assert ptr("192.0.2.1") is None  # not the cluster's: forwarded


def test_other_names_are_not_ours(records: ClusterRecords) -> None:
    assert records.resolve(dns.name.from_text("example.org"), dns.rdatatype.A) is None
