"""A pod's /etc/hosts, resolv.conf and hostname, byte for byte as the kubelet and containerd write them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.network.podfiles import (
    PodFiles,
    PodFilesError,
    dns_config,
    hostname_and_domain,
    hosts_file,
    kernel_hostname,
    parse_resolv_conf,
    pod_files,
    resolv_conf,
    write_pod_files,
)

HOST_RESOLV = "# generated\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example. lab.example\n"
HOST_RESOLV += "options timeout:2 rotate\n"
LOCAL_HOSTS = (
    "# Kubernetes-managed hosts file.\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)


def pod(name: str = "web-0", namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "uid": "u1"}, "spec": spec}


def test_hosts_file_plain_and_with_subdomain_and_aliases() -> None:
    assert hosts_file("10.244.1.5", "web-0", "", []) == LOCAL_HOSTS + "10.244.1.5\tweb-0\n"
    aliases = [
        {"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]},
        {"ip": "10.1.2.3", "hostnames": ["x"]},
    ]
    assert hosts_file(["10.244.1.5", "fd00::5"], "web-0", "web.shop.svc.cluster.local", aliases) == (
        LOCAL_HOSTS
        + "10.244.1.5\tweb-0.web.shop.svc.cluster.local\tweb-0\n"
        + "fd00::5\tweb-0.web.shop.svc.cluster.local\tweb-0\n"
        + "\n# Entries added by HostAliases.\n"
        + "127.0.0.1\tfoo.local\tbar.local\n"
        + "10.1.2.3\tx\n"
    )


def test_hostname_rules() -> None:
    assert hostname_and_domain(pod(), "cluster.local") == ("web-0", "")
    assert hostname_and_domain(pod(hostname="db", subdomain="web"), "cluster.local") == (
        "db",
        "web.shop.svc.cluster.local",
    )
    long = "a" * 60 + "-.-b"  # cut to 63, then no trailing '-' or '.'
    assert hostname_and_domain(pod(name=long), "cluster.local")[0] == "a" * 60
    assert kernel_hostname(pod(subdomain="web"), "cluster.local") == "web-0"
    fqdn = pod(subdomain="web", setHostnameAsFQDN=True)
    assert kernel_hostname(fqdn, "cluster.local") == "web-0.web.shop.svc.cluster.local"
    with pytest.raises(PodFilesError, match=r"FQDN .* is too long"):
        kernel_hostname(pod(name="x" * 40, subdomain="web", setHostnameAsFQDN=True), "cluster.local")


def test_parse_resolv_conf() -> None:
    text = HOST_RESOLV + "search last.example\n#nameserver 1.1.1.1\nnameserver\n"
    assert parse_resolv_conf(text) == (
        ["192.0.2.53", "192.0.2.54"],
        ["last.example"],
        ["timeout:2", "rotate"],
    )


def test_cluster_first() -> None:
    got = resolv_conf(pod(), ["10.96.0.10"], "cluster.local", HOST_RESOLV)
    assert got == (
        "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n"
        "nameserver 10.96.0.10\n"
        "options ndots:5\n"
    )
    # The same for a hostNetwork pod with ClusterFirstWithHostNet; plain ClusterFirst there means Default.
    host_net = pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
    assert resolv_conf(host_net, ["10.96.0.10"], "cluster.local", HOST_RESOLV) == got
    default = resolv_conf(
        pod(hostNetwork=True, dnsPolicy="ClusterFirst"), ["10.96.0.10"], "cluster.local", HOST_RESOLV
    )
    assert default == resolv_conf(pod(dnsPolicy="Default"), ["10.96.0.10"], "cluster.local", HOST_RESOLV)


def test_default_uses_the_node_file() -> None:
    got = resolv_conf(pod(dnsPolicy="Default"), ["10.96.0.10"], "cluster.local", HOST_RESOLV)
    assert got == (
        "search corp.example lab.example\n"
        "nameserver 192.0.2.53\n"
        "nameserver 192.0.2.54\n"
        "options timeout:2 rotate\n"
    )


def test_cluster_first_without_cluster_dns_falls_back_to_default() -> None:
    config = dns_config(pod(), [], "cluster.local", HOST_RESOLV)
    assert config.nameservers == ["192.0.2.53", "192.0.2.54"]
    assert config.searches == ["corp.example", "lab.example"]
    [(reason, message)] = config.warnings
    assert reason == "MissingClusterDNS"
    assert message.startswith('pod: "web-0_shop(u1)". kubelet does not have ClusterDNS IP configured')


def test_none_with_dns_config() -> None:
    options = [{"name": "ndots", "value": "2"}, {"name": "edns0"}]
    spec = {
        "nameservers": ["1.2.3.4"],
        "searches": ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
    }
    got = resolv_conf(
        pod(dnsPolicy="None", dnsConfig={**spec, "options": options}), ["10.96.0.10"], "c.l", HOST_RESOLV
    )
    assert got == (
        "search ns1.svc.cluster-domain.example my.dns.search.suffix\n"
        "nameserver 1.2.3.4\n"
        "options ndots:2 edns0\n"
    )


def test_dns_config_merges_into_cluster_first() -> None:
    extra = {
        "nameservers": ["10.96.0.10", "192.0.2.1"],
        "searches": ["svc.cluster.local", "extra.example"],
        "options": [{"name": "ndots", "value": "1"}, {"name": "single-request"}],
    }
    config = dns_config(pod(dnsConfig=extra), ["10.96.0.10"], "cluster.local", "")
    assert config.nameservers == ["10.96.0.10", "192.0.2.1"]
    assert config.searches == [
        "shop.svc.cluster.local",
        "svc.cluster.local",
        "cluster.local",
        "extra.example",
    ]
    assert config.options == ["ndots:1", "single-request"]
    assert config.warnings == []


def test_limits() -> None:
    extra = {
        "nameservers": ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
        "searches": [f"d{i}.example" for i in range(40)],
    }
    config = dns_config(pod(dnsConfig=extra), ["10.96.0.10"], "cluster.local", "")
    assert config.nameservers == ["10.96.0.10", "192.0.2.1", "192.0.2.2"]
    assert len(config.searches) == 32
    reasons = [reason for reason, _ in config.warnings]
    assert reasons == ["DNSConfigForming", "DNSConfigForming"]
    assert config.warnings[0][1] == (
        "Nameserver limits were exceeded, some nameservers have been omitted, "
        "the applied nameserver line is: 10.96.0.10 192.0.2.1 192.0.2.2"
    )
    assert config.warnings[1][1].startswith(
        "Search Line limits were exceeded, some search paths have been omitted"
    )
    # Over 2048 characters in all: cut from the end.
    long = {"searches": [f"{'x' * 60}.{i}.example" for i in range(31)]}
    searches = dns_config(pod(dnsPolicy="None", dnsConfig=long), [], "", "").searches
    assert len(" ".join(searches)) <= 2048 and searches == long["searches"][: len(searches)]


def test_pod_files_and_writing(tmp_path: Path) -> None:
    files = pod_files(
        pod(hostname="db", subdomain="web"),
        pod_ips=["10.244.1.5"],
        cluster_dns=["10.96.0.10"],
        cluster_domain="cluster.local",
        host_resolv=HOST_RESOLV,
    )
    assert files.hosts.endswith("10.244.1.5\tdb.web.shop.svc.cluster.local\tdb\n")
    assert files.hostname == "db\n"
    host_net = pod_files(
        pod(hostNetwork=True, hostAliases=[{"ip": "10.0.0.1", "hostnames": ["a"]}]),
        pod_ips=["192.0.2.10"],
        cluster_dns=["10.96.0.10"],
        cluster_domain="cluster.local",
        host_resolv=HOST_RESOLV,
        node_hosts="127.0.0.1\tlocalhost\n",
        node_hostname="node-1",
    )
    assert host_net.hosts == (
        "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n"
        "\n# Entries added by HostAliases.\n10.0.0.1\ta\n"
    )
    assert host_net.hostname == "node-1\n"

    write_pod_files(tmp_path / "pod", files)
    write_pod_files(tmp_path / "pod", PodFiles(files.hosts, "nameserver 10.96.0.10\n", "db\n", []))
    assert sorted(p.name for p in (tmp_path / "pod").iterdir()) == ["etc-hosts", "hostname", "resolv.conf"]
    assert (tmp_path / "pod" / "etc-hosts").read_text() == files.hosts
    assert (tmp_path / "pod" / "resolv.conf").read_text() == "nameserver 10.96.0.10\n"
    assert (tmp_path / "pod" / "hostname").stat().st_mode & 0o777 == 0o644
