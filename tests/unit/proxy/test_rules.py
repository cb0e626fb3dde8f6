"""Rule generation from Services and EndpointSlices (pure: no iptables)."""

from __future__ import annotations

from typing import Any

from kubelite.proxy.conntrack import stale_flows, udp_state
from kubelite.proxy.model import service_ports
from kubelite.proxy.rules import NODEPORTS, SERVICES, Ruleset, build, chain_name, proxied


def service(name: str = "web", **spec: Any) -> dict[str, Any]:
    base = {"clusterIP": "10.43.0.20", "clusterIPs": ["10.43.0.20"], "ports": [{"name": "http", "port": 80}]}
    return {"metadata": {"namespace": "default", "name": name}, "spec": {**base, **spec}}


def endpoint(ip: str, node: str = "n1", **conditions: bool) -> dict[str, Any]:
    return {"addresses": [ip], "nodeName": node, "conditions": {"ready": True, **conditions}}


def slice_(*endpoints: dict[str, Any], port: int = 8080, name: str = "http") -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": "default",
            "name": "web-abc",
            "labels": {"kubernetes.io/service-name": "web"},
        },
        "addressType": "IPv4",
        "ports": [{"name": name, "port": port, "protocol": "TCP"}],
        "endpoints": list(endpoints),
    }


def rules_for(svc: dict[str, Any], *slices: dict[str, Any]) -> Ruleset:
    return build(service_ports(svc, slices), node_name="n1", cluster_cidr="10.42.0.0/16")


def svc_chain(ruleset: Ruleset, prefix: str = "KL-SVC-") -> list[str]:
    return ruleset.tables["nat"][chain_name(prefix, "default/web:http/tcp")]


def dnat_targets(ruleset: Ruleset) -> set[str]:
    return {
        line.rsplit(" ", 1)[1]
        for chain, lines in ruleset.tables["nat"].items()
        if chain.startswith("KL-SEP-")
        for line in lines
        if "DNAT" in line
    }


def all_lines(ruleset: Ruleset) -> list[str]:
    return [line for chains in ruleset.tables.values() for rules in chains.values() for line in rules]


def test_cluster_ip_balances_over_ready_endpoints_with_named_target_port() -> None:
    ruleset = rules_for(
        service(), slice_(endpoint("10.42.0.5"), endpoint("10.42.0.6"), endpoint("10.42.0.7"))
    )
    services = ruleset.tables["nat"][SERVICES]
    assert any("-d 10.43.0.20/32 -p tcp -m tcp --dport 80 -j KL-SVC-" in line for line in services)
    assert services[-1].endswith(f"-m addrtype --dst-type LOCAL -j {NODEPORTS}")
    chain = svc_chain(ruleset)
    assert chain[0].startswith(
        f"-A {chain_name('KL-SVC-', 'default/web:http/tcp')} ! -s 10.42.0.0/16 -m comment"
    )
    probabilities = [line.split("--probability ")[1].split()[0] for line in chain if "statistic" in line]
    assert probabilities == ["0.3333333333", "0.5000000000"]
    assert "statistic" not in chain[-1]
    assert dnat_targets(ruleset) == {"10.42.0.5:8080", "10.42.0.6:8080", "10.42.0.7:8080"}
    assert not ruleset.tables["filter"][SERVICES]


def test_hairpin_marks_traffic_from_the_endpoint_itself() -> None:
    ruleset = rules_for(service(), slice_(endpoint("10.42.0.5")))
    sep = ruleset.tables["nat"][chain_name("KL-SEP-", "default/web:http/tcp", "10.42.0.5:8080")]
    assert sep[0].endswith("-s 10.42.0.5/32 -j KL-MARK-MASQ")


def test_not_ready_endpoints_get_no_traffic_and_terminating_serving_ones_are_a_fallback() -> None:
    ruleset = rules_for(service(), slice_(endpoint("10.42.0.5"), endpoint("10.42.0.6", ready=False)))
    assert dnat_targets(ruleset) == {"10.42.0.5:8080"}
    draining = endpoint("10.42.0.6", ready=False, serving=True, terminating=True)
    gone = endpoint("10.42.0.7", ready=False, serving=False, terminating=True)
    assert dnat_targets(rules_for(service(), slice_(draining, gone))) == {"10.42.0.6:8080"}


def test_no_endpoints_rejects_in_filter_and_has_no_nat_rule() -> None:
    ruleset = rules_for(service(type="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080}]))
    assert ruleset.tables["filter"][SERVICES] == [
        '-A KL-SERVICES -m comment --comment "default/web:http" -d 10.43.0.20/32 -p tcp -m tcp --dport 80'
        " -j REJECT"
    ]
    assert ruleset.tables["filter"]["KL-EXTERNAL-SERVICES"] == [
        "-A KL-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j REJECT"
    ]
    assert not ruleset.tables["nat"][NODEPORTS]
    assert not any(c.startswith("KL-SVC-") for c in ruleset.tables["nat"])


def test_nodeport_and_load_balancer_ip_go_through_the_external_chain() -> None:
    svc = service(type="LoadBalancer", ports=[{"name": "http", "port": 80, "nodePort": 30080}])
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}
    ruleset = rules_for(svc, slice_(endpoint("10.42.0.5", node="n2")))
    ext = chain_name("KL-EXT-", "default/web:http/tcp")
    assert ruleset.tables["nat"][NODEPORTS] == [f"-A {NODEPORTS} -p tcp -m tcp --dport 30080 -j {ext}"]
    assert any("-d 192.0.2.10/32" in line and line.endswith(ext) for line in ruleset.tables["nat"][SERVICES])
    svc_name = chain_name("KL-SVC-", "default/web:http/tcp")
    assert ruleset.tables["nat"][ext] == [f"-A {ext} -j KL-MARK-MASQ", f"-A {ext} -j {svc_name}"]


def test_external_policy_local_keeps_the_source_and_uses_local_endpoints() -> None:
    svc = service(
        type="NodePort",
        externalTrafficPolicy="Local",
        ports=[{"name": "http", "port": 80, "nodePort": 30080}],
    )
    ruleset = rules_for(svc, slice_(endpoint("10.42.0.5", node="n1"), endpoint("10.42.1.5", node="n2")))
    ext = ruleset.tables["nat"][chain_name("KL-EXT-", "default/web:http/tcp")]
    assert not any(line.endswith("-j KL-MARK-MASQ") and "LOCAL" not in line for line in ext)
    assert ext[-1].endswith(chain_name("KL-SVL-", "default/web:http/tcp"))
    local_sep = chain_name("KL-SEP-", "default/web:http/tcp", "10.42.0.5:8080")
    assert svc_chain(ruleset, "KL-SVL-") == [
        f"-A {chain_name('KL-SVL-', 'default/web:http/tcp')} -j {local_sep}"
    ]
    # Endpoints only on other nodes: external traffic is dropped (not refused: the Service has endpoints).
    elsewhere = rules_for(svc, slice_(endpoint("10.42.1.5", node="n2")))
    assert elsewhere.tables["filter"]["KL-EXTERNAL-SERVICES"][0].endswith("--dport 30080 -j DROP")


def test_internal_policy_local_sends_cluster_ip_to_local_endpoints_only() -> None:
    ruleset = rules_for(
        service(internalTrafficPolicy="Local"),
        slice_(endpoint("10.42.0.5"), endpoint("10.42.1.5", node="n2")),
    )
    assert any(
        line.endswith(chain_name("KL-SVL-", "default/web:http/tcp"))
        for line in ruleset.tables["nat"][SERVICES]
    )
    assert dnat_targets(ruleset) == {"10.42.0.5:8080"}
    only_remote = rules_for(service(internalTrafficPolicy="Local"), slice_(endpoint("10.42.1.5", node="n2")))
    assert only_remote.tables["filter"][SERVICES][0].endswith("-j DROP")


def test_session_affinity_checks_recent_clients_first() -> None:
    svc = service(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 30}})
    ruleset = rules_for(svc, slice_(endpoint("10.42.0.5"), endpoint("10.42.0.6")))
    chain = svc_chain(ruleset)
    assert [("--rcheck --seconds 30 --reap" in line) for line in chain[1:]] == [True, True, False, False]
    sep = ruleset.tables["nat"][chain_name("KL-SEP-", "default/web:http/tcp", "10.42.0.5:8080")]
    assert "-m recent --name KL-SEP-" in sep[1] and "--set -j DNAT" in sep[1]


def test_external_name_headless_and_unmatched_ports_get_nothing() -> None:
    assert (
        service_ports(
            service(type="ExternalName", externalName="example.org", clusterIP=None, clusterIPs=None), []
        )
        == []
    )
    assert (
        service_ports(service(clusterIP="None", clusterIPs=["None"]), [slice_(endpoint("10.42.0.5"))]) == []
    )
    # A slice without the Service port's name has no endpoints for it.
    assert rules_for(service(), slice_(endpoint("10.42.0.5"), name="other")).tables["filter"][SERVICES]


def test_nodeport_addresses_limit_where_node_ports_answer() -> None:
    ports = service_ports(
        service(type="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080}]),
        [slice_(endpoint("10.42.0.5"))],
    )
    ruleset = build(ports, node_name="n1", cluster_cidr=None, nodeport_addresses=("192.0.2.1", "127.0.0.1"))
    assert ruleset.tables["nat"][SERVICES][-2:] == [
        f"-A {SERVICES} -d 192.0.2.1/32 -j {NODEPORTS}",
        f"-A {SERVICES} -d 127.0.0.1/32 -j {NODEPORTS}",
    ]
    assert not any("! -s" in line for line in svc_chain(ruleset))  # no cluster CIDR: no outside-masquerade


def test_chain_names_fit_iptables_and_are_stable() -> None:
    name = chain_name("KL-SEP-", "a-very-long-namespace/a-very-long-service-name:https/tcp", "10.42.0.5:8443")
    assert len(name) <= 28 and name == chain_name(
        "KL-SEP-", "a-very-long-namespace/a-very-long-service-name:https/tcp", "10.42.0.5:8443"
    )


def test_udp_flows_go_stale_when_a_port_gets_endpoints_or_loses_one() -> None:
    dns = service(name="web", ports=[{"name": "http", "port": 53, "protocol": "UDP"}])
    udp_slice = slice_(endpoint("10.42.0.5"), endpoint("10.42.0.6"), port=53)
    udp_slice["ports"][0]["protocol"] = "UDP"
    empty = service_ports(dns, [])
    served = service_ports(dns, [udp_slice])
    assert stale_flows(udp_state(empty), served) == [
        ["-D", "-p", "udp", "--orig-dst", "10.43.0.20", "--orig-port-dst", "53"]
    ]
    udp_slice["endpoints"].pop()
    assert stale_flows(udp_state(served), service_ports(dns, [udp_slice])) == [
        ["-D", "-p", "udp", "--orig-dst", "10.43.0.20", "--dst-nat", "10.42.0.6"]
    ]
    assert stale_flows(udp_state(served), served) == []


def test_cached_builds_equal_fresh_ones_and_reuse_unchanged_ports() -> None:
    web = service_ports(service(), [slice_(endpoint("10.42.0.5"))])
    other = service_ports(service(name="other", clusterIP="10.43.0.21", clusterIPs=["10.43.0.21"]), [])
    cache: dict[Any, Ruleset] = {}
    first = build([*web, *other], node_name="n1", cluster_cidr="10.42.0.0/16", cache=cache)
    kept = cache[other[0]]
    changed = service_ports(service(), [slice_(endpoint("10.42.0.5"), endpoint("10.42.0.6"))])
    second = build([*changed, *other], node_name="n1", cluster_cidr="10.42.0.0/16", cache=cache)
    assert second == build([*changed, *other], node_name="n1", cluster_cidr="10.42.0.0/16")
    assert first != second and dnat_targets(second) == {"10.42.0.5:8080", "10.42.0.6:8080"}
    assert cache[other[0]] is kept and set(cache) == {changed[0], other[0]}


def test_ports_at_an_address_the_node_serves_itself_get_no_rules() -> None:
    dns = service(
        name="kube-dns",
        clusterIP="10.43.0.10",
        clusterIPs=["10.43.0.10"],
        ports=[{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53}],
    )
    web = service_ports(service(), [slice_(endpoint("10.42.0.5"))])
    # kube-dns has no endpoints: proxied, it would be REJECTed; a user's CoreDNS pods would be DNATed to.
    dns_slice = slice_(endpoint("10.42.0.9"), port=53, name="dns-tcp")
    for ports in (service_ports(dns, []), service_ports(dns, [dns_slice])):
        assert any(
            "-d 10.43.0.10/32" in line for line in all_lines(build(ports, node_name="n1", cluster_cidr=None))
        )
        kept = proxied([*ports, *web], frozenset({"10.43.0.10"}))
        assert kept == web
        ruleset = build(kept, node_name="n1", cluster_cidr="10.42.0.0/16")
        assert not any("10.43.0.10" in line or "kube-dns" in line for line in all_lines(ruleset))
        assert dnat_targets(ruleset) == {"10.42.0.5:8080"}
    assert proxied(web, frozenset()) == web
