"""`kubelite agent`: join a cluster as a node running real containers (crun or runc), or as simulated
nodes (`--runtime fake`, kubelite.agent.fake)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from socket import AF_PACKET, SOCK_RAW
from typing import Any

from kubelite.agent import fake
from kubelite.agent import run as real_agent
from kubelite.agent.config import AgentConfig, default_node_name
from kubelite.agent.network.dnsaddress import bind_cluster_dns
from kubelite.agent.network.nsconnect import socket_in_netns
from kubelite.cli.hostaddress import primary_address
from kubelite.client.informer import InformerFactory
from kubelite.client.kubeconfig import KubeConfigError
from kubelite.client.rest import RestClient
from kubelite.dns import run as dns
from kubelite.proxy import announce
from kubelite.proxy import run as proxy
from kubelite.util import datadirlock
from kubelite.util.supervisor import Supervisor

log = logging.getLogger(__name__)

RUNTIMES = ("crun", "runc", "fake")


@dataclass(frozen=True)
class AgentOptions:
    runtime: str
    server: str
    token_file: Path | None
    token: str
    kubeconfig: Path | None
    certificate_authority: Path | None
    data_dir: Path
    fake_nodes: int
    node_name: str
    node_ip: str
    node_labels: tuple[str, ...]
    node_taints: tuple[str, ...]
    capacity: tuple[str, ...]
    fake_job_duration: float
    lease_interval: float
    kubelet_port: int
    cluster_cidr: str
    resolv_conf: str
    cluster_dns: str
    cluster_domain: str
    insecure_registries: tuple[str, ...]
    strict_image_pulls: bool


def parse_labels(items: tuple[str, ...]) -> dict[str, str]:
    labels = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals:
            raise ValueError(f"--node-label {item!r}: want key=value")
        labels[key] = value
    return labels


def fake_config(options: AgentOptions) -> fake.FakeAgentConfig:
    """Raises ValueError (or KubeConfigError) with a message for the user when a flag is wrong."""
    capacity = dict(fake.DEFAULT_CAPACITY)
    for item in options.capacity:
        key, equals, value = item.partition("=")
        if not equals:
            raise ValueError(f"--capacity {item!r}: want resource=quantity")
        capacity[key] = value
    return fake.FakeAgentConfig(
        client_config=_client_config(options),
        nodes=options.fake_nodes,
        node_name_prefix=options.node_name or "fake-node",
        capacity=capacity,
        labels=parse_labels(options.node_labels),
        taints=tuple(fake.parse_taint(t) for t in options.node_taints),
        node_ip=options.node_ip or "127.0.0.1",
        job_duration=options.fake_job_duration,
        lease_interval=options.lease_interval,
    )


def real_config(options: AgentOptions) -> AgentConfig:
    node_ip = options.node_ip or primary_address() or "127.0.0.1"
    return AgentConfig(
        client_config=_client_config(options),
        data_dir=options.data_dir,
        node_name=options.node_name or default_node_name(),
        node_ip=node_ip,
        runtime=options.runtime,
        kubelet_port=options.kubelet_port,
        cluster_dns=(options.cluster_dns,),
        cluster_domain=options.cluster_domain,
        labels=parse_labels(options.node_labels),
        taints=tuple(fake.parse_taint(t) for t in options.node_taints),
        insecure_registries=options.insecure_registries,
        strict_image_pulls=options.strict_image_pulls,
    )


def _client_config(options: AgentOptions) -> Any:
    return fake.client_config(
        kubeconfig_path=options.kubeconfig,
        server=options.server,
        token_file=options.token_file,
        token=options.token,
        ca_file=options.certificate_authority,
    )


def node(agent: AgentConfig, cluster_cidr: str, resolv_conf: Path | None) -> Coroutine[Any, Any, None]:
    """What runs on every real node: the agent and, beside it as kube-proxy and a node-local DNS cache run
    beside a kubelet, the service proxy and the cluster DNS server (and MetalLB's speaker: the announcer of
    LoadBalancer addresses) — on one API client and one informer factory, so the Services and
    EndpointSlices they all watch are held once. Raises OSError if the DNS address cannot be taken."""
    proxy_config = proxy.ProxyConfig(
        node_name=agent.node_name,
        cluster_cidr=cluster_cidr,
        node_netns=agent.node_netns,
        node_local_ips=frozenset({agent.cluster_dns[0]}),
    )
    netns = agent.node_netns
    announce_config = announce.AnnounceConfig(
        node_name=agent.node_name,
        node_ip=agent.node_ip,
        node_netns=netns,
        packet_socket=partial(socket_in_netns, netns, AF_PACKET, SOCK_RAW) if netns else None,
    )
    udp, tcp = bind_cluster_dns(agent.cluster_dns[0], agent.node_netns)
    dns_config = dns.DnsConfig(
        cluster_domain=agent.cluster_domain,
        udp=udp,
        tcp=tcp,
        resolv_conf=resolv_conf,
    )

    async def run() -> None:
        async with RestClient(agent.client_config, user_agent=f"kubelite-node/{agent.node_name}") as client:
            informers = InformerFactory(client)
            async with asyncio.TaskGroup() as group:
                group.create_task(informers.run(), name="node informers")
                group.create_task(real_agent.serve(agent, client, informers), name="agent")
                group.create_task(proxy.serve(proxy_config, client, informers), name="service proxy")
                group.create_task(dns.serve(dns_config, informers), name="cluster dns")
                group.create_task(announce.serve(announce_config, client, informers), name="lb announcer")

    return run()


def resolv_conf_path(text: str) -> Path | None:
    """--resolv-conf: the file whose nameservers other names are forwarded to; "" forwards nowhere."""
    return Path(text) if text else None


async def supervise(components: dict[str, Coroutine[Any, Any, Any]]) -> int:
    """Run long tasks until one ends or SIGINT/SIGTERM; the exit code says which."""
    supervisor = Supervisor()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stop)
    for name, work in components.items():
        supervisor.start(name, work)
    await supervisor.wait()
    return 1 if supervisor.failure else 0


async def run_agent(options: AgentOptions) -> int:
    if options.runtime not in RUNTIMES:
        log.error("unknown runtime %r; choose one of %s", options.runtime, ", ".join(RUNTIMES))
        return 2
    try:
        if options.runtime == "fake":  # keeps nothing in the data dir: any number may share one
            return await supervise({"fake agent": fake.run(fake_config(options))})
        with datadirlock.hold(options.data_dir):  # `kubelite uninstall` refuses while we run
            resolv_conf = resolv_conf_path(options.resolv_conf)
            return await supervise({"node": node(real_config(options), options.cluster_cidr, resolv_conf)})
    except (ValueError, KubeConfigError, OSError, datadirlock.DataDirInUse) as exc:
        log.error("%s", exc)
        return 2
