"""Cluster DNS served over UDP and TCP on 127.0.0.1, following the API server through informers."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from kubelite.client import errors, paths
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.dns.conftest import RunningDns, fake_upstream, running_dns

SERVICES = paths.resource("", "v1", "services")
SLICES = paths.resource("discovery.k8s.io", "v1", "endpointslices")
NAMESPACES = paths.resource("", "v1", "namespaces")
NS = "default"
ZONE = "cluster.local"


async def query(
    running: RunningDns, name: str, rdtype: str = "A", *, tcp: bool = False, **make: Any
) -> dns.message.Message:
    q = dns.message.make_query(name, rdtype, **make)
    if tcp:
        return await dns.asyncquery.tcp(q, "127.0.0.1", port=running.port, timeout=3)
    return await dns.asyncquery.udp(q, "127.0.0.1", port=running.port, timeout=3)


def records(response: dns.message.Message, rdtype: str = "A") -> list[str]:
    wanted = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rr in response.answer if rr.rdtype == wanted for rd in rr)


async def until(running: RunningDns, name: str, check: Any, rdtype: str = "A") -> dns.message.Message:
    """Query until the answer passes `check` (the informers deliver changes asynchronously)."""
    async with asyncio.timeout(10):
        while True:
            response = await query(running, name, rdtype)
            if check(response):
                return response
            await asyncio.sleep(0.05)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def make_service(running: RunningDns, name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("ports", [{"name": "http", "port": 80, "protocol": "TCP"}])
    return await running.client.create(SERVICES, {"metadata": {"name": name, "namespace": NS}, "spec": spec})


async def make_slice(running: RunningDns, service: str, ips: list[str], **extra: Any) -> None:
    endpoints = [{"addresses": [ip], "conditions": {"ready": True}, **extra} for ip in ips]
    body = {
        "metadata": {
            "name": unique(service),
            "namespace": NS,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }
    await running.client.create(SLICES, body)


async def test_services_appear_and_disappear(cluster_dns: RunningDns) -> None:
    name = unique("web")
    fqdn = f"{name}.{NS}.svc.{ZONE}"
    assert (await query(cluster_dns, fqdn)).rcode() == dns.rcode.NXDOMAIN
    created = await make_service(cluster_dns, name)
    response = await until(cluster_dns, fqdn, lambda r: r.rcode() == dns.rcode.NOERROR)
    assert records(response) == [created["spec"]["clusterIP"]]
    assert response.flags & dns.flags.AA
    assert response.answer[0].ttl == 5
    await cluster_dns.client.delete(SERVICES, name, namespace=NS)
    gone = await until(cluster_dns, fqdn, lambda r: r.rcode() == dns.rcode.NXDOMAIN)
    assert gone.authority[0].rdtype == dns.rdatatype.SOA


async def test_nodata_srv_case_and_tcp(cluster_dns: RunningDns) -> None:
    name = unique("api")
    created = await make_service(cluster_dns, name)
    fqdn = f"{name}.{NS}.svc.{ZONE}"
    await until(cluster_dns, fqdn, lambda r: bool(r.answer))
    nodata = await query(cluster_dns, fqdn, "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    srv = await query(cluster_dns, f"_http._tcp.{fqdn}", "SRV")
    assert records(srv, "SRV") == [f"0 100 80 {fqdn}."]
    assert [rd.to_text() for rr in srv.additional for rd in rr] == [created["spec"]["clusterIP"]]
    upper = await query(cluster_dns, fqdn.upper())
    assert records(upper) == [created["spec"]["clusterIP"]]
    over_tcp = await query(cluster_dns, fqdn, tcp=True)
    assert records(over_tcp) == [created["spec"]["clusterIP"]]
    assert (await query(cluster_dns, f"{NS}.svc.{ZONE}")).rcode() == dns.rcode.NOERROR
    assert (await query(cluster_dns, f"nowhere.svc.{ZONE}")).rcode() == dns.rcode.NXDOMAIN


async def test_headless_service_and_pod_hostnames(cluster_dns: RunningDns) -> None:
    name = unique("db")
    await make_service(cluster_dns, name, clusterIP="None")
    await make_slice(cluster_dns, name, ["10.42.0.5"], hostname="db-0")
    await make_slice(cluster_dns, name, ["10.42.0.6"])
    fqdn = f"{name}.{NS}.svc.{ZONE}"
    response = await until(cluster_dns, fqdn, lambda r: len(records(r)) == 2)
    assert records(response) == ["10.42.0.5", "10.42.0.6"]
    assert records(await query(cluster_dns, f"db-0.{fqdn}")) == ["10.42.0.5"]
    srv = await query(cluster_dns, f"_http._tcp.{fqdn}", "SRV")
    assert records(srv, "SRV") == [f"0 50 8080 10-42-0-6.{fqdn}.", f"0 50 8080 db-0.{fqdn}."]
    ptr = await query(cluster_dns, "5.0.42.10.in-addr.arpa", "PTR")
    assert records(ptr, "PTR") == [f"db-0.{fqdn}."]


async def test_truncation_over_udp(cluster_dns: RunningDns) -> None:
    name = unique("many")
    await make_service(cluster_dns, name, clusterIP="None")
    await make_slice(cluster_dns, name, [f"10.42.1.{i}" for i in range(1, 41)])
    fqdn = f"{name}.{NS}.svc.{ZONE}"
    await until(cluster_dns, fqdn, lambda r: r.rcode() == dns.rcode.NOERROR)
    plain = await query(cluster_dns, fqdn)
    assert plain.flags & dns.flags.TC  # 40 addresses do not fit 512 bytes
    with_edns = await query(cluster_dns, fqdn, use_edns=0, payload=1232)
    assert not with_edns.flags & dns.flags.TC and len(records(with_edns)) == 40
    assert len(records(await query(cluster_dns, fqdn, tcp=True))) == 40


async def test_external_name_and_pod_records(cluster_dns: RunningDns) -> None:
    name = unique("ext")
    target = unique("web")
    created = await make_service(cluster_dns, target)
    await make_service(
        cluster_dns, name, type="ExternalName", externalName=f"{target}.{NS}.svc.{ZONE}", ports=[]
    )
    fqdn = f"{name}.{NS}.svc.{ZONE}"
    response = await until(cluster_dns, fqdn, lambda r: bool(records(r)))
    assert records(response, "CNAME") == [f"{target}.{NS}.svc.{ZONE}."]
    assert records(response) == [created["spec"]["clusterIP"]]
    pod = await query(cluster_dns, f"10-42-0-9.{NS}.pod.{ZONE}")
    assert records(pod) == ["10.42.0.9"]


async def test_no_upstream_means_servfail(cluster_dns: RunningDns) -> None:
    assert (await query(cluster_dns, "example.org")).rcode() == dns.rcode.SERVFAIL


async def test_forwarding_to_upstreams(apiserver: RunningServer) -> None:
    async with fake_upstream(None) as (silent, silent_port), fake_upstream("192.0.2.7") as (good, good_port):
        upstreams = [("127.0.0.1", silent_port), ("127.0.0.1", good_port)]
        async with running_dns(apiserver, upstreams=upstreams) as running:
            response = await query(running, "example.org")
            assert response.rcode() == dns.rcode.NOERROR and records(response) == ["192.0.2.7"]
            assert silent.questions == good.questions == ["example.org."]  # the silent one timed out
            name = unique("ext")
            await make_service(running, name, type="ExternalName", externalName="example.net", ports=[])
            fqdn = f"{name}.{NS}.svc.{ZONE}"
            chased = await until(running, fqdn, lambda r: bool(r.answer))
            assert records(chased, "CNAME") == ["example.net."]
            assert records(chased) == ["192.0.2.7"]
            assert (await query(running, "example.org", tcp=True)).rcode() == dns.rcode.NOERROR


async def test_many_queries_at_once(cluster_dns: RunningDns) -> None:
    name = unique("busy")
    await make_service(cluster_dns, name)
    fqdn = f"{name}.{NS}.svc.{ZONE}"
    await until(cluster_dns, fqdn, lambda r: bool(r.answer))
    answers = await asyncio.gather(*(query(cluster_dns, fqdn, tcp=i % 2 == 0) for i in range(200)))
    assert all(len(records(a)) == 1 for a in answers)


@pytest.mark.parametrize(
    "garbage", [b"\x12\x34\x01\x00\x00\x01", b"\x12\x34\x01\x00" + b"\x00\x01" + bytes(6) + b"\xff"]
)
async def test_garbled_queries_get_formerr_or_nothing(cluster_dns: RunningDns, garbage: bytes) -> None:
    reply = await cluster_dns.server.handle(garbage, tcp=False)
    if len(garbage) < 12:
        assert reply is None
    else:
        assert reply is not None and reply[:2] == garbage[:2] and reply[3] & 0x0F == dns.rcode.FORMERR


async def test_namespaces_are_followed(cluster_dns: RunningDns) -> None:
    ns = unique("team")
    assert (await query(cluster_dns, f"{ns}.svc.{ZONE}")).rcode() == dns.rcode.NXDOMAIN
    await cluster_dns.client.create(NAMESPACES, {"metadata": {"name": ns}})
    try:
        await until(cluster_dns, f"{ns}.svc.{ZONE}", lambda r: r.rcode() == dns.rcode.NOERROR)
    finally:
        try:
            await cluster_dns.client.delete(NAMESPACES, ns)
        except errors.NotFound:
            pass
