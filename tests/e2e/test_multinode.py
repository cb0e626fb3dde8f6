"""Three real nodes on one machine (tests.support.multinode): a server and two agents joined with the
server's token, each in a network namespace of its own on a private LAN.

Pods on different nodes reach each other by pod IP (the agents' routes to each other's pod ranges), and
kubectl logs/exec reach pods on agent nodes through the API server, and an external client reaches a
Service through every node's NodePort and through its LoadBalancer address, which one node announces on the
LAN (ARP) and which moves with the endpoints under externalTrafficPolicy Local. Local traffic policies hold
across nodes: only a node with a ready endpoint answers (externally, keeping the client's address; internally,
to its own pods).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import wait_for
from tests.support.multinode import (
    CLIENT_IP,
    LB_POOL,
    SERVER_IP,
    SUBNET,
    Host,
    MultiNodeCluster,
    join_token,
    multinode_cluster,
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MultiNodeCluster]:
    with multinode_cluster(
        tmp_path_factory.mktemp("multinode"), agents=2, server_args=("--lb-pool", LB_POOL)
    ) as running:
        yield running


@pytest.fixture
def ns(cluster: MultiNodeCluster) -> Iterator[str]:
    name = f"mn-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def pod_on(name: str, node: str, script: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {
                "nodeName": node,
                "terminationGracePeriodSeconds": 0,
                "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script]}],
            },
        }
    )


def run_pod(cluster: MultiNodeCluster, ns: str, name: str, node: str, script: str) -> Any:
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=pod_on(name, node, script))
    seen: dict[str, Any] = {}

    def running() -> bool:
        seen["pod"] = json.loads(cluster.kubectl("-n", ns, "get", "pod", name, "-o", "json"))
        status = seen["pod"].get("status") or {}
        return bool(status.get("phase") == "Running" and status.get("podIP"))

    try:
        wait_for(running, within=60, what=f"pod {name} Running on {node}")
    except AssertionError as error:
        raise AssertionError(f"{error}: {seen.get('pod', {}).get('status')}\n{cluster.logs()}") from None
    return seen["pod"]


# A web server whose /cgi-bin/who answers with its own name and the caller's address as it sees it.
WEB = (
    "mkdir -p /www/cgi-bin && printf '%s\\n' '#!/bin/sh' 'printf \"Content-Type: text/plain\\r\\n\\r\\n\"'"
    " 'echo $(hostname) sees $REMOTE_ADDR' > /www/cgi-bin/who && chmod +x /www/cgi-bin/who"
    " && httpd -f -p 8080 -h /www"
)


def test_three_nodes_are_ready_with_their_own_addresses_and_pod_ranges(cluster: MultiNodeCluster) -> None:
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    by_name = {node["metadata"]["name"]: node for node in nodes}
    server, agent0, agent1 = cluster.node_names
    assert set(by_name) == {server, agent0, agent1} == cluster.ready_nodes()
    addresses = {
        name: next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        for name, node in by_name.items()
    }
    assert addresses == {server: SERVER_IP, agent0: f"{SUBNET}.11", agent1: f"{SUBNET}.12"}
    assert len({node["spec"]["podCIDR"] for node in nodes}) == 3


def test_pods_on_different_nodes_reach_each_other_by_pod_ip(cluster: MultiNodeCluster, ns: str) -> None:
    server, agent0, agent1 = cluster.node_names
    web = run_pod(cluster, ns, "web", agent0, WEB)
    other = run_pod(cluster, ns, "other-web", agent1, WEB)
    client = run_pod(cluster, ns, "client", server, "sleep 3600")
    assert len({web["status"]["podIP"], other["status"]["podIP"], client["status"]["podIP"]}) == 3

    # server -> agent0, server -> agent1, agent0 -> agent1; no NAT on the way: the target sees the pod's IP
    for source, target in ((client, web), (client, other), (web, other)):
        name, ip = target["metadata"]["name"], target["status"]["podIP"]
        source_name, source_ip = source["metadata"]["name"], source["status"]["podIP"]
        url = f"http://{ip}:8080/cgi-bin/who"
        command = ("-n", ns, "exec", source_name, "--", "timeout", "3", "wget", "-qO-", url)
        replies: list[str] = []

        def answered(command: tuple[str, ...] = command, replies: list[str] = replies) -> bool:
            replies.append(cluster.kubectl(*command, check=False))
            return "sees" in replies[-1]

        try:
            wait_for(answered, within=20, what=f"{source_name} -> {name} ({ip})", every=0.5)
        except AssertionError as error:
            raise AssertionError(f"{error}: {replies[-1:]}") from None
        assert replies[-1].strip() == f"{name} sees [::ffff:{source_ip}]"  # busybox httpd listens on v6


def test_logs_and_exec_reach_pods_on_agent_nodes_through_the_api_server(
    cluster: MultiNodeCluster, ns: str
) -> None:
    run_pod(cluster, ns, "talker", cluster.agents[1].node_name, "echo started on $(hostname); sleep 3600")
    logs = ("-n", ns, "logs", "talker")
    wait_for(lambda: "started on talker" in cluster.kubectl(*logs), within=20, what="the pod's logs")
    script = "echo $((6 * 7)); ip -4 addr show eth0"
    out = cluster.kubectl("-n", ns, "exec", "talker", "--", "sh", "-c", script)
    assert out.splitlines()[0] == "42"
    assert "10.42." in out


def test_kubelite_token_prints_the_token_agents_join_with(cluster: MultiNodeCluster, tmp_path: Path) -> None:
    token = join_token(cluster.server.data_dir)
    assert token == (cluster.server.data_dir / "server" / "token").read_text().strip()
    assert all((agent.log.parent / "token").read_text().strip() == token for agent in cluster.agents)
    command = [sys.executable, "-m", "kubelite", "token", "--data-dir", str(tmp_path)]
    missing = subprocess.run(command, capture_output=True, text=True)
    assert missing.returncode == 1
    assert "has `kubelite server --data-dir" in missing.stderr


def test_an_external_client_reaches_node_ports_on_every_node_and_a_load_balancer_ip(
    cluster: MultiNodeCluster, ns: str
) -> None:
    server, agent0, _ = cluster.node_names
    for name, node in (("web-a", server), ("web-b", agent0)):
        run_pod(cluster, ns, name, node, WEB)
        cluster.kubectl("-n", ns, "label", "pod", name, "tier=web")
    cluster.kubectl("-n", ns, "create", "service", "nodeport", "web", "--tcp=80:8080")
    cluster.kubectl("-n", ns, "set", "selector", "service", "web", "tier=web")
    cluster.kubectl("-n", ns, "create", "service", "loadbalancer", "front", "--tcp=80:8080")
    cluster.kubectl("-n", ns, "set", "selector", "service", "front", "tier=web")
    node_port = cluster.kubectl("-n", ns, "get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")

    def fetch(address: str, port: int | str, path: str = "/cgi-bin/who") -> str:
        done = cluster.client.run("timeout", "3", "busybox", "wget", "-qO-", f"http://{address}:{port}{path}",
                                  check=False)
        return done.stdout.strip()

    for node_ip in (SERVER_IP, f"{SUBNET}.11", f"{SUBNET}.12"):  # agent1 runs no web pod: it forwards
        wait_for(lambda ip=node_ip: "sees" in fetch(ip, node_port), within=30, what=f"NodePort on {node_ip}")

    ingress = ("-n", ns, "get", "svc", "front", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")
    wait_for(lambda: cluster.kubectl(*ingress) != "", within=30, what="a LoadBalancer address")
    lb_ip = cluster.kubectl(*ingress)
    first, last = (int(part.rsplit(".", 1)[1]) for part in LB_POOL.split("-"))
    assert lb_ip.startswith(f"{SUBNET}.") and first <= int(lb_ip.rsplit(".", 1)[1]) <= last
    # No route to the pool on the client: the elected node answers ARP for the address (layer 2).
    wait_for(lambda: "sees" in fetch(lb_ip, 80), within=30, what="the LoadBalancer address to answer")
    assert len(announcers(cluster, lb_ip)) == 1


def announcers(cluster: MultiNodeCluster, ip: str) -> list[str]:
    """The nodes carrying `ip` as an announced (kllb-labelled) address."""
    hosts = [cluster.server_host, *(agent.host for agent in cluster.agents)]
    return [
        name
        for name, host in zip(cluster.node_names, hosts, strict=True)
        if f" {ip}/32 " in host.run("ip", "-o", "-4", "addr", "show", "label", "*:kllb").stdout
    ]


def test_a_local_load_balancer_ip_is_announced_from_an_endpoints_node_and_moves_with_it(
    cluster: MultiNodeCluster, ns: str
) -> None:
    _, agent0, agent1 = cluster.node_names
    for name, node in (("wa", agent0), ("wb", agent1)):
        run_pod(cluster, ns, name, node, WEB)
        cluster.kubectl("-n", ns, "label", "pod", name, "app=web", "--overwrite")
    local = service("lb", "web", type="LoadBalancer", externalTrafficPolicy="Local")
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=local)
    ingress = ("-n", ns, "get", "svc", "lb", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")
    wait_for(lambda: cluster.kubectl(*ingress) != "", within=30, what="a LoadBalancer address")
    lb_ip = cluster.kubectl(*ingress)

    def fetch() -> str:
        url = f"http://{lb_ip}/cgi-bin/who"
        return cluster.client.run("timeout", "3", "busybox", "wget", "-qO-", url, check=False).stdout.strip()

    wait_for(lambda: "sees" in fetch(), within=30, what="the LoadBalancer address to answer")
    owner = announcers(cluster, lb_ip)
    assert owner in ([agent0], [agent1])  # never the server: it has no endpoint
    pod = {agent0: "wa", agent1: "wb"}[owner[0]]
    assert fetch() == f"{pod} sees [::ffff:{CLIENT_IP}]"  # the owner's endpoint; the client's address kept

    def assigned() -> list[str]:
        events = json.loads(cluster.kubectl("-n", ns, "get", "events", "-o", "json"))["items"]
        return [event["message"] for event in events if event["reason"] == "nodeAssigned"]

    expected = f'announcing from node "{owner[0]}" with protocol "layer2"'
    wait_for(lambda: expected in assigned(), within=10, what="the nodeAssigned event")

    cluster.kubectl("-n", ns, "delete", "pod", pod, "--grace-period=0", "--force")
    other, other_pod = (agent1, "wb") if owner[0] == agent0 else (agent0, "wa")
    wait_for(lambda: announcers(cluster, lb_ip) == [other], within=30, what=f"the address to move to {other}")
    # The new owner's gratuitous ARP re-points the client's neighbour entry at once (no waiting for ageing).
    link = cluster.agents[[agent0, agent1].index(other)].host.run("ip", "-o", "link", "show", "eth0").stdout
    mac = link.split("link/ether ")[1].split()[0]
    neighbour = ("ip", "neigh", "show", lb_ip, "dev", "eth0")
    wait_for(lambda: f"lladdr {mac} " in cluster.client.run(*neighbour).stdout, within=2, what="a new entry")
    wait_for(lambda: fetch().startswith(other_pod), within=10, what="the address to answer from its new node")


def service(name: str, app: str, **spec: str) -> str:
    manifest = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                "spec": {**spec, "selector": {"app": app}, "ports": [{"port": 80, "targetPort": 8080}]}}
    return json.dumps(manifest)


def proxied_on(host: Host, text: str) -> bool:
    """The node's proxy has a rule naming `text` (a port or an address): its silence is policy, not lag."""
    return text in host.run("iptables-save").stdout


def test_external_traffic_policy_local_answers_only_where_an_endpoint_runs_and_keeps_the_client_address(
    cluster: MultiNodeCluster, ns: str
) -> None:
    _, agent0, _ = cluster.node_names
    run_pod(cluster, ns, "web", agent0, WEB)
    local = service("local", "web", type="NodePort", externalTrafficPolicy="Local")
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=local)
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=service("spread", "web", type="NodePort"))
    ports = ("-n", ns, "get", "svc", "-o", "jsonpath={.items[*].spec.ports[0].nodePort}", "local", "spread")
    local_port, spread_port = cluster.kubectl(*ports).split()
    agent0_ip, agent1 = cluster.agents[0].host.ip, cluster.agents[1].host

    def fetch(address: str, port: str) -> str:
        url = f"http://{address}:{port}/cgi-bin/who"
        return cluster.client.run("timeout", "3", "busybox", "wget", "-qO-", url, check=False).stdout.strip()

    wait_for(lambda: "sees" in fetch(agent0_ip, local_port), within=30, what="the Local NodePort on agent0")
    # Policy Local keeps the client's address (no masquerade), unlike a Cluster one forwarded elsewhere.
    assert fetch(agent0_ip, local_port) == f"web sees [::ffff:{CLIENT_IP}]"
    wait_for(lambda: "sees" in fetch(agent1.ip, spread_port), within=30, what="Cluster's NodePort on agent1")
    assert fetch(agent1.ip, spread_port) == f"web sees [::ffff:{agent1.ip}]"  # masqueraded on the way
    for host in (agent1, cluster.server_host):  # no endpoint on these nodes: no answer
        wait_for(lambda h=host: proxied_on(h, f"--dport {local_port}"), within=30, what=f"{host.ip}'s rules")
        assert fetch(host.ip, local_port) == ""


def test_internal_traffic_policy_local_serves_only_pods_on_the_endpoints_node(
    cluster: MultiNodeCluster, ns: str
) -> None:
    _, agent0, agent1 = cluster.node_names
    run_pod(cluster, ns, "web", agent0, WEB)
    near = run_pod(cluster, ns, "near", agent0, "sleep 3600")
    run_pod(cluster, ns, "far", agent1, "sleep 3600")
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=service("web", "web", internalTrafficPolicy="Local"))
    cluster_ip = cluster.kubectl("-n", ns, "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")

    def fetch(pod: str) -> str:
        command = ("-n", ns, "exec", pod, "--", "timeout", "3", "wget", "-qO-", f"http://{cluster_ip}/cgi-bin/who")
        return cluster.kubectl(*command, check=False).strip()

    wait_for(lambda: "sees" in fetch("near"), within=30, what="the Service from the endpoint's node")
    assert fetch("near") == f"web sees [::ffff:{near['status']['podIP']}]"
    far_node = cluster.agents[1].host
    wait_for(lambda: proxied_on(far_node, f"-d {cluster_ip}/32"), within=30, what="agent1's rules")
    assert "sees" not in fetch("far")
