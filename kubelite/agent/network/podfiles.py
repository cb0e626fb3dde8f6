"""A pod's /etc/hosts, /etc/resolv.conf and /etc/hostname, as the kubelet (and containerd) write them.

Pure functions over the pod (a JSON dict); write_pod_files() puts the results in the pod's directory, from
where the pod loop bind-mounts them into every container.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSON = dict[str, Any]

HOSTS_HEADER = "# Kubernetes-managed hosts file.\n"
HOST_NETWORK_HOSTS_HEADER = "# Kubernetes-managed hosts file (host network).\n"
HOSTNAME_MAX = 63
FQDN_MAX = 64  # the kernel's nodename field
MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048
MAX_SEARCH_LEN = 253  # a DNS subdomain
DEFAULT_OPTIONS = ("ndots:5",)
# File names in the pod's directory
HOSTS_FILE = "etc-hosts"
RESOLV_FILE = "resolv.conf"
HOSTNAME_FILE = "hostname"


class PodFilesError(ValueError):
    """The pod's hostname cannot be made (the kubelet fails the sandbox with this message)."""


def hostname_and_domain(pod: JSON, cluster_domain: str) -> tuple[str, str]:
    """(hostname, host domain): spec.hostname or the pod's name, cut to 63; <subdomain>.<ns>.svc.<domain>."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    hostname = spec.get("hostname") or meta["name"]
    if len(hostname) > HOSTNAME_MAX:
        hostname = hostname[:HOSTNAME_MAX].rstrip("-.")
        if not hostname:
            raise PodFilesError(f"hostname for pod {meta['name']!r} was invalid: {spec.get('hostname')!r}")
    subdomain = spec.get("subdomain") or ""
    domain = f"{subdomain}.{meta.get('namespace', 'default')}.svc.{cluster_domain}" if subdomain else ""
    return hostname, domain


def kernel_hostname(pod: JSON, cluster_domain: str) -> str:
    """What the pod's UTS hostname and /etc/hostname say: the FQDN with setHostnameAsFQDN and a subdomain."""
    hostname, domain = hostname_and_domain(pod, cluster_domain)
    if domain and (pod.get("spec") or {}).get("setHostnameAsFQDN"):
        fqdn = f"{hostname}.{domain}"
        if len(fqdn) > FQDN_MAX:
            raise PodFilesError(
                f"failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} is too long "
                f"({FQDN_MAX} characters is the max, {len(fqdn)} characters requested)"
            )
        return fqdn
    return hostname


def hosts_file(
    pod_ip: str | Sequence[str], hostname: str, subdomain_fqdn: str, host_aliases: Iterable[JSON] = ()
) -> str:
    """/etc/hosts of a pod on the pod network; subdomain_fqdn is the host domain ("" without a subdomain)."""
    lines = [
        HOSTS_HEADER,
        "127.0.0.1\tlocalhost\n",
        "::1\tlocalhost ip6-localhost ip6-loopback\n",
        "fe00::0\tip6-localnet\n",
        "fe00::0\tip6-mcastprefix\n",
        "fe00::1\tip6-allnodes\n",
        "fe00::2\tip6-allrouters\n",
    ]
    names = f"{hostname}.{subdomain_fqdn}\t{hostname}" if subdomain_fqdn else hostname
    lines += [f"{ip}\t{names}\n" for ip in ([pod_ip] if isinstance(pod_ip, str) else pod_ip)]
    return "".join(lines) + _aliases(host_aliases)


def host_network_hosts_file(node_hosts: str, host_aliases: Iterable[JSON] = ()) -> str:
    """/etc/hosts of a hostNetwork pod: the node's own file under a header."""
    return HOST_NETWORK_HOSTS_HEADER + node_hosts + _aliases(host_aliases)


def _aliases(host_aliases: Iterable[JSON]) -> str:
    entries = [f"{a.get('ip', '')}\t{chr(9).join(a.get('hostnames') or [])}\n" for a in host_aliases]
    return "\n# Entries added by HostAliases.\n" + "".join(entries) if entries else ""


@dataclass(frozen=True)
class DnsConfig:
    nameservers: list[str]
    searches: list[str]
    options: list[str]
    # (reason, message) for Warning events on the pod: DNSConfigForming, MissingClusterDNS
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        """resolv.conf as containerd writes it from the kubelet's DNS config."""
        out = f"search {' '.join(self.searches)}\n" if self.searches else ""
        out += "".join(f"nameserver {server}\n" for server in self.nameservers)
        return out + (f"options {' '.join(self.options)}\n" if self.options else "")


def parse_resolv_conf(text: str) -> tuple[list[str], list[str], list[str]]:
    """(nameservers, searches, options): nameservers add up, the last search and options lines win."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            servers.append(fields[1])
        elif fields[0] == "search":
            searches = [s.removesuffix(".") for s in fields[1:]]
        elif fields[0] == "options":
            options = fields[1:]
    return servers, searches, options


def dns_config(pod: JSON, cluster_dns: Sequence[str], cluster_domain: str, host_resolv: str) -> DnsConfig:
    """The kubelet's DNS settings for a pod, from dnsPolicy and dnsConfig; host_resolv is the node's file."""
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    servers, searches, options = parse_resolv_conf(host_resolv)
    warnings: list[tuple[str, str]] = []
    # ClusterFirst means Default for a hostNetwork pod; an unknown policy means ClusterFirst.
    host_policy = policy == "Default" or (policy == "ClusterFirst" and spec.get("hostNetwork"))
    if policy == "None":
        servers, searches, options = [], [], []
    elif not host_policy:
        if cluster_dns:
            servers = list(cluster_dns)
            if cluster_domain:
                ns = pod["metadata"].get("namespace", "default")
                cluster = [f"{ns}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain]
                searches = _unique(cluster + searches)
            options = list(DEFAULT_OPTIONS)
        else:
            message = (
                "kubelet does not have ClusterDNS IP configured and cannot create Pod using "
                '"ClusterFirst" policy. Falling back to "Default" policy.'
            )
            warnings.append(("MissingClusterDNS", f'pod: "{_pod_ref(pod)}". {message}'))
    extra = spec.get("dnsConfig")
    if extra:
        servers = _unique(servers + list(extra.get("nameservers") or []))
        searches = _unique(searches + list(extra.get("searches") or []))
        options = _merge_options(options, extra.get("options") or [])
    if len(servers) > MAX_NAMESERVERS:
        servers = servers[:MAX_NAMESERVERS]
        message = "Nameserver limits were exceeded, some nameservers have been omitted"
        warnings.append(
            ("DNSConfigForming", f"{message}, the applied nameserver line is: {' '.join(servers)}")
        )
    searches, cut = _fit_searches(searches)
    if cut:
        message = "Search Line limits were exceeded, some search paths have been omitted"
        warnings.append(("DNSConfigForming", f"{message}, the applied search line is: {' '.join(searches)}"))
    return DnsConfig(servers, searches, options, warnings)


def resolv_conf(pod: JSON, cluster_dns: Sequence[str], cluster_domain: str, host_resolv: str) -> str:
    return dns_config(pod, cluster_dns, cluster_domain, host_resolv).render()


def _pod_ref(pod: JSON) -> str:
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace', 'default')}({meta.get('uid', '')})"


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _merge_options(existing: list[str], extra: list[JSON]) -> list[str]:
    """Options by name; the pod's dnsConfig wins over the base for the same name."""
    merged: dict[str, str] = {}
    for option in existing:
        name, _, value = option.partition(":")
        merged[name] = value
    for entry in extra:
        merged[entry["name"]] = entry.get("value") or ""
    return [f"{name}:{value}" if value else name for name, value in merged.items()]


def _fit_searches(searches: list[str]) -> tuple[list[str], bool]:
    cut = len(searches) > MAX_SEARCHES
    searches = searches[:MAX_SEARCHES]
    kept = [s for s in searches if len(s) <= MAX_SEARCH_LEN]
    cut = cut or len(kept) < len(searches)
    while kept and len(" ".join(kept)) > MAX_SEARCH_CHARS:
        kept.pop()
        cut = True
    return kept, cut


@dataclass(frozen=True)
class PodFiles:
    hosts: str
    resolv: str
    hostname: str  # the file's content, newline included
    warnings: list[tuple[str, str]]


def pod_files(
    pod: JSON,
    *,
    pod_ips: Sequence[str],
    cluster_dns: Sequence[str],
    cluster_domain: str,
    host_resolv: str,
    node_hosts: str = "",
    node_hostname: str = "",
) -> PodFiles:
    """All three files for a pod; node_hosts and node_hostname serve hostNetwork pods."""
    spec = pod.get("spec") or {}
    aliases = spec.get("hostAliases") or []
    dns = dns_config(pod, cluster_dns, cluster_domain, host_resolv)
    if spec.get("hostNetwork"):
        hosts, hostname = host_network_hosts_file(node_hosts, aliases), node_hostname
    else:
        name, domain = hostname_and_domain(pod, cluster_domain)
        hosts, hostname = hosts_file(pod_ips, name, domain, aliases), kernel_hostname(pod, cluster_domain)
    return PodFiles(hosts, dns.render(), f"{hostname}\n", dns.warnings)


def write_pod_files(pod_dir: Path, files: PodFiles) -> None:
    """etc-hosts, resolv.conf and hostname in the pod's directory, each replaced atomically (blocking)."""
    pod_dir.mkdir(parents=True, exist_ok=True)
    contents = {HOSTS_FILE: files.hosts, RESOLV_FILE: files.resolv, HOSTNAME_FILE: files.hostname}
    for name, content in contents.items():
        tmp = pod_dir / f".{name}.tmp"
        tmp.write_text(content)
        tmp.chmod(0o644)
        os.replace(tmp, pod_dir / name)
