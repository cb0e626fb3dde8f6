"""The service proxy against a real API server, with real iptables rules in a node netns and real traffic.

Services and EndpointSlices are written through the API (no controllers run: the test plays the
EndpointSlice controller), the proxy programs the node netns, and busybox wget from a pod netns or the node
netns checks where connections land.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubelite.client import kubeconfig
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.proxy.iptables import Iptables, RuleSyncer
from kubelite.proxy.model import Endpoint, ServicePort
from kubelite.proxy.rules import build, chain_name
from kubelite.proxy.run import ENDPOINTSLICES, SERVICES, ServiceProxy
from tests.integration.apiserver.conftest import RunningServer, start_server, stop_server
from tests.integration.proxy.topology import (
    GATEWAY,
    HTTP_PORT,
    LOAD_BALANCER_IP,
    NODE_IP,
    OUTSIDE_IP,
    PodNetwork,
    http_get,
    peer_seen,
)
from tests.support.netns import NetNamespace

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces, iptables)")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path / "data")
    try:
        yield running
    finally:
        stop_server(running, thread)


@pytest.fixture
def net() -> Iterator[PodNetwork]:
    with PodNetwork(pods=2) as network:
        yield network


@dataclass
class Env:
    client: RestClient
    proxy: ServiceProxy
    net: PodNetwork

    async def service(self, name: str, **spec: Any) -> dict[str, Any]:
        body = {
            "metadata": {"name": name},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "web"}], **spec},
        }
        return await self.client.create(SERVICES, body, namespace="default")

    async def endpoints(self, service: str, ready: dict[str, bool]) -> None:
        """The Service's one slice listing the pods in `ready` (pod name -> ready), port "http" -> 8080."""
        ips = {pod.name: pod.ip for pod in self.net.pods}
        body = {
            "metadata": {"name": service, "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": HTTP_PORT, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": [ips[pod]], "conditions": {"ready": ok}, "nodeName": "node-1"}
                for pod, ok in ready.items()
            ],
        }
        try:
            current = await self.client.get(ENDPOINTSLICES, service, namespace="default")
        except Exception:
            await self.client.create(ENDPOINTSLICES, body, namespace="default")
        else:
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            await self.client.update(ENDPOINTSLICES, body, namespace="default")

    async def settled(self) -> None:
        """Wait until the proxy has applied everything the API holds now."""
        await asyncio.sleep(0.3)
        count = self.proxy.sync_count
        self.proxy.request_sync()
        for _ in range(100):
            if self.proxy.sync_count > count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the proxy did not sync")


def kl_lines(enter: tuple[str, ...]) -> list[str]:
    saved = subprocess.run([*enter, "iptables-save"], capture_output=True, text=True, check=True).stdout
    return [line for line in saved.splitlines() if "KL-" in line]


@pytest.fixture
async def env(server: RunningServer, net: PodNetwork) -> AsyncIterator[Env]:
    host_before = kl_lines(())
    async with RestClient(kubeconfig.load(server.kubeconfig)) as client:
        informers = InformerFactory(client)
        proxy = ServiceProxy(
            client, informers, node_name="node-1", node_netns=net.node.path, cluster_cidr="10.42.0.0/16"
        )
        tasks = [asyncio.create_task(informers.run()), asyncio.create_task(proxy.run())]
        try:
            await asyncio.wait_for(proxy.synced.wait(), 10)
            yield Env(client, proxy, net)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await proxy.cleanup()
    assert kl_lines(net.node.enter) == []
    assert kl_lines(()) == host_before == []  # the host's own iptables are never touched


async def backends(env: Env, client_pod: int | None, url: str, n: int = 12) -> Counter[str]:
    where = env.net.node if client_pod is None else env.net.pods[client_pod].netns
    seen: Counter[str] = Counter()
    for _ in range(n):
        ok, body = await http_get(where, url)
        seen[body if ok else f"error: {body}"] += 1
    return seen


async def test_cluster_ip_reaches_both_backends_from_pods_and_node_and_hairpins(env: Env) -> None:
    svc = await env.service("web")
    await env.endpoints("web", {"pod0": True, "pod1": True})
    await env.settled()
    url = f"http://{svc['spec']['clusterIP']}/"
    assert set(await backends(env, 0, url)) == {"pod0", "pod1"}  # pod0 reaching itself: hairpin
    assert set(await backends(env, None, url)) == {"pod0", "pod1"}
    assert set(await backends(env, 1, url)) == {"pod0", "pod1"}


async def test_not_ready_endpoints_get_no_traffic_and_no_endpoints_is_refused(env: Env) -> None:
    svc = await env.service("web")
    url = f"http://{svc['spec']['clusterIP']}/"
    await env.endpoints("web", {"pod0": False, "pod1": True})
    await env.settled()
    assert await backends(env, 0, url, n=8) == Counter({"pod1": 8})
    await env.endpoints("web", {})
    await env.settled()
    for where in (0, None):
        started = time.monotonic()
        (outcome,) = await backends(env, where, url, n=1)
        assert "refused" in outcome and time.monotonic() - started < 1.5


async def test_node_port_on_loopback_and_node_ip(env: Env) -> None:
    svc = await env.service("web", type="NodePort")
    node_port = svc["spec"]["ports"][0]["nodePort"]
    await env.endpoints("web", {"pod0": True, "pod1": True})
    await env.settled()
    assert set(await backends(env, None, f"http://127.0.0.1:{node_port}/")) == {"pod0", "pod1"}
    assert set(await backends(env, None, f"http://{NODE_IP}:{node_port}/")) == {"pod0", "pod1"}
    assert set(await backends(env, 1, f"http://{NODE_IP}:{node_port}/")) == {"pod0", "pod1"}


async def test_client_ip_affinity_sticks(env: Env) -> None:
    svc = await env.service("web", sessionAffinity="ClientIP")
    await env.endpoints("web", {"pod0": True, "pod1": True})
    await env.settled()
    url = f"http://{svc['spec']['clusterIP']}/"
    assert len(await backends(env, 1, url)) == 1
    assert len(await backends(env, None, url)) == 1


async def test_deleted_service_leaves_no_chains_behind(env: Env) -> None:
    await env.service("web")
    await env.endpoints("web", {"pod0": True})
    await env.settled()
    svc, sep = (
        chain_name("KL-SVC-", "default/web:http/tcp"),
        chain_name("KL-SEP-", "default/web:http/tcp", f"{env.net.pods[0].ip}:{HTTP_PORT}"),
    )
    assert {svc, sep} <= {
        line[1:].split()[0] for line in kl_lines(env.net.node.enter) if line.startswith(":")
    }
    await env.client.delete(SERVICES, "web", namespace="default")
    await env.settled()
    lines = kl_lines(env.net.node.enter)
    assert not any(svc in line or sep in line for line in lines), "\n".join(lines)


async def test_external_clients_are_masqueraded_unless_the_policy_is_local(env: Env) -> None:
    svc = await env.service("web", type="LoadBalancer")
    node_port = svc["spec"]["ports"][0]["nodePort"]
    ingress = {"status": {"loadBalancer": {"ingress": [{"ip": LOAD_BALANCER_IP}]}}}
    await env.client.patch(SERVICES, "web", ingress, namespace="default", subresource="status")
    await env.endpoints("web", {"pod0": True})
    await env.settled()
    outside = env.net.outside
    urls = [f"http://{NODE_IP}:{node_port}/cgi-bin/client", f"http://{LOAD_BALANCER_IP}/cgi-bin/client"]
    for url in urls:
        assert await http_get(outside, url) == (True, GATEWAY)  # SNAT: replies must come back this way
    # A pod keeps its own address on the way to a ClusterIP.
    cluster_url = f"http://{svc['spec']['clusterIP']}/cgi-bin/client"
    assert await http_get(env.net.pods[1].netns, cluster_url) == (True, env.net.pods[1].ip)
    await env.client.patch(SERVICES, "web", {"spec": {"externalTrafficPolicy": "Local"}}, namespace="default")
    await env.settled()
    for url in urls:
        assert await http_get(outside, url) == (True, OUTSIDE_IP)


async def test_masqueraded_node_traffic_keeps_its_source_port(env: Env) -> None:
    # A random port per connection (--random-fully) would let the endpoint's TIME_WAIT sockets refuse new
    # connections from the node (PAWS), each then stalled by a SYN retransmission (kubelite.proxy.rules).
    svc = await env.service("web")
    await env.endpoints("web", {"pod0": True})
    await env.settled()
    seen = await peer_seen(env.net.node, svc["spec"]["clusterIP"], 80, source_port=41234)
    assert seen == f"{GATEWAY}:41234"


async def test_a_restarted_proxy_replaces_what_the_last_one_left() -> None:
    with NetNamespace("klpxnode") as node:
        endpoint = Endpoint("10.42.0.5", 80, ready=True, serving=True, terminating=False, node_name="n1")
        old = ServicePort(
            "default", "old", "", "tcp", ("10.43.0.5",), 80, None, (), None, False, False, (endpoint,)
        )
        new = ServicePort("default", "new", "", "tcp", ("10.43.0.6",), 80, None, (), None, False, False, ())
        await RuleSyncer(Iptables(node.path)).sync(build([old], node_name="n1", cluster_cidr=None))
        restarted = RuleSyncer(Iptables(node.path))
        await restarted.sync(build([new], node_name="n1", cluster_cidr=None))
        lines = kl_lines(node.enter)
        assert not any(chain_name("KL-SVC-", old.id) in line for line in lines)
        assert any(
            "10.43.0.6/32" in line and line.endswith("REJECT --reject-with icmp-port-unreachable")
            for line in lines
        )
        assert [line for line in lines if line.startswith("-A PREROUTING")] == [
            "-A PREROUTING -j KL-SERVICES"
        ]
        await restarted.cleanup()
        assert kl_lines(node.enter) == []
