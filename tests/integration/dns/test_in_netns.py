"""The agent's way to run cluster DNS: sockets made inside the node's network namespace, bound to the
cluster DNS address on the node's loopback; a pod (another namespace, routed via the node) resolves there."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator

import pytest

from kubelite.agent.network.nsconnect import socket_in_netns
from kubelite.client import paths
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.dns.server import DnsServer
from tests.integration.apiserver.conftest import RunningServer
from tests.support.netns import NetNamespace

DNS_IP = "10.43.0.10"
RESOLVE = """
import sys, dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = [sys.argv[1]]
for tcp in (False, True):
    print(r.resolve(sys.argv[2], "A", tcp=tcp, lifetime=5)[0].address)
"""


@pytest.fixture
def node_and_pod() -> Iterator[tuple[NetNamespace, NetNamespace]]:
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces")
    with NetNamespace("kldns-node") as node, NetNamespace("kldns-pod") as pod:
        node.run("ip", "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", pod.name)
        node.run("ip", "addr", "add", "10.42.0.1/24", "dev", "veth0")
        node.run("ip", "link", "set", "veth0", "up")
        node.run("ip", "addr", "add", f"{DNS_IP}/32", "dev", "lo")
        pod.run("ip", "addr", "add", "10.42.0.5/24", "dev", "eth0")
        pod.run("ip", "link", "set", "eth0", "up")
        pod.run("ip", "route", "add", "default", "via", "10.42.0.1")
        yield node, pod


async def test_a_pod_resolves_through_the_node_namespace(
    apiserver: RunningServer, node_and_pod: tuple[NetNamespace, NetNamespace]
) -> None:
    node, pod = node_and_pod
    udp = socket_in_netns(node.path, socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket_in_netns(node.path, socket.AF_INET, socket.SOCK_STREAM)
    udp.bind((DNS_IP, 53))
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((DNS_IP, 53))
    async with RestClient.from_kubeconfig(apiserver.kubeconfig) as client:
        informers = InformerFactory(client)
        server = DnsServer(informers, cluster_domain="cluster.local")
        created = await client.create(
            paths.resource("", "v1", "services"),
            {"metadata": {"name": "web", "namespace": "default"}, "spec": {"ports": [{"port": 80}]}},
        )
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(informers.run()), group.create_task(server.run(udp=udp, tcp=tcp))]
            assert await informers.wait_for_sync(10)
            resolved = await asyncio.to_thread(
                pod.run, sys.executable, "-c", RESOLVE, DNS_IP, "web.default.svc.cluster.local"
            )
            for task in tasks:
                task.cancel()
    assert resolved.stdout.split() == [created["spec"]["clusterIP"]] * 2
    await asyncio.sleep(0.25)  # let the client's closed TLS connections finish (see conftest)
