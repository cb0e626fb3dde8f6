"""CniNetwork with the real plugins, inside a node netns the test made."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import subprocess
import time
from pathlib import Path

import pytest

from kubelite.agent.network import plugins
from kubelite.agent.network.cni import CniNetwork
from kubelite.agent.network.nsconnect import open_connection_in_netns, socket_in_netns
from kubelite.agent.network.types import NetworkError, PortMapping
from kubelite.agent.paths import NodePaths
from tests.integration.agent.network.conftest import Node


def in_pod(uid: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", f"kl-{uid}", *command], capture_output=True, text=True, timeout=20
    )


def exists(path: str) -> bool:
    return os.path.exists(path)


def veths(node: Node) -> list[str]:
    return node.netns.run("ip", "-o", "link", "show", "type", "veth").stdout.splitlines()


def allocated(node: Node) -> set[str]:
    """Addresses host-local holds (one file per address in its data dir)."""
    directory = node.paths.cni / "ipam" / "kubelite"
    return {name for name in os.listdir(directory) if name[0].isdigit()} if directory.is_dir() else set()


def host_mentions(node: Node, *needles: str) -> list[str]:
    """Lines of the host's links and iptables rules naming this node's bridge, its pod subnet or a needle."""
    needles = (node.bridge, node.pod_cidr.rsplit(".", 1)[0] + ".", *needles)
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return [line for line in (links + rules).splitlines() if any(n in line for n in needles)]


async def test_two_pods_get_addresses_and_reach_each_other(node: Node) -> None:
    net = node.network()
    a, b = node.uid(), node.uid()
    started = time.perf_counter()
    first = await net.setup(a, "default", "a", [])
    second = await net.setup(b, "default", "b", [])
    elapsed = time.perf_counter() - started

    subnet = ipaddress.ip_network(node.pod_cidr)
    assert first.ip != second.ip
    assert {ipaddress.ip_address(first.ip), ipaddress.ip_address(second.ip)} <= set(subnet.hosts())
    assert first.netns_path == f"/run/netns/kl-{a}" and exists(first.netns_path)
    assert elapsed < 2.0, elapsed
    assert "LOWER_UP" in in_pod(a, "ip", "-o", "link", "show", "lo").stdout
    ping = in_pod(a, "busybox", "ping", "-c1", "-W2", second.ip)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    gateway = str(subnet.network_address + 1)
    assert in_pod(b, "ip", "route").stdout.startswith(f"default via {gateway} dev eth0")
    assert node.netns.run("sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() == "1"
    assert f"{node.bridge}:" in node.netns.run("ip", "-o", "link").stdout
    assert host_mentions(node) == []


async def test_host_port_reaches_the_pod_from_the_node(node: Node) -> None:
    net = node.network()
    uid = node.uid()
    sandbox = await net.setup(uid, "default", "web", [PortMapping(host_port=18080, container_port=8080)])
    listener = socket_in_netns(sandbox.netns_path)
    listener.bind(("0.0.0.0", 8080))

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello from the pod\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, sock=listener)
    try:
        gateway = str(ipaddress.ip_network(node.pod_cidr).network_address + 1)
        for host in ("127.0.0.1", gateway):
            reader, writer = await open_connection_in_netns(node.netns.path, host, 18080, timeout=5)
            assert await reader.readline() == b"hello from the pod\n", host
            writer.close()
            await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    assert "--dport 18080" in node.netns.run("iptables-save", "-t", "nat").stdout
    assert host_mentions(node, "--dport 18080") == []

    await net.teardown(uid)
    assert "18080" not in node.netns.run("iptables-save", "-t", "nat").stdout


async def test_teardown_removes_everything_and_frees_the_address(small_node: Node) -> None:
    node = small_node
    net = node.network()
    uids = [node.uid() for _ in range(5)]
    sandboxes = [await net.setup(uid, "default", f"p{i}", []) for i, uid in enumerate(uids)]
    assert len({s.ip for s in sandboxes}) == 5
    assert len(veths(node)) == 5

    # The range is full: setup fails with the plugin's message and leaves nothing behind.
    full = node.uid()
    with pytest.raises(NetworkError, match=r'plugin type="bridge".*no IP addresses available'):
        await net.setup(full, "default", "full", [])
    assert not exists(f"/run/netns/kl-{full}")
    assert full not in {s.pod_uid for s in await net.sandboxes()}
    assert len(veths(node)) == 5

    freed = sandboxes[2]
    await net.teardown(freed.pod_uid)
    await net.teardown(freed.pod_uid)  # idempotent
    assert not exists(freed.netns_path)
    assert len(veths(node)) == 4
    assert freed.ip not in allocated(node)
    assert freed.pod_uid not in {s.pod_uid for s in await net.sandboxes()}

    again = await net.setup(node.uid(), "default", "again", [])
    assert again.ip == freed.ip


async def test_setup_after_restart_returns_the_same_sandbox(node: Node) -> None:
    uid = node.uid()
    sandbox = await node.network().setup(uid, "default", "p", [PortMapping(18081, 80)])
    restarted = node.network()
    assert await restarted.sandboxes() == [sandbox]
    assert await restarted.setup(uid, "default", "p", [PortMapping(18081, 80)]) == sandbox
    assert len(veths(node)) == 1
    await restarted.teardown(uid)
    assert await restarted.sandboxes() == []
    assert veths(node) == [] and allocated(node) == set()
    assert "18081" not in node.netns.run("iptables-save", "-t", "nat").stdout


async def test_half_made_sandbox_is_torn_down(node: Node) -> None:
    net = node.network()
    await net.setup(node.uid(), "default", "warm", [])  # the bridge exists, as on a busy node
    # A crash mid-setup: the record and the netns exist, the bridge plugin ran, the result was never saved.
    uid = node.uid()
    state = {"podUID": uid, "namespace": "default", "name": "p", "netns": f"/run/netns/kl-{uid}"}
    net._save(uid, {**state, "portMappings": [{"hostPort": 18082, "containerPort": 80, "protocol": "tcp"}]})
    await asyncio.to_thread(subprocess.run, ["ip", "netns", "add", f"kl-{uid}"], check=True)
    await plugins.call("ADD", net._networks.bridge, net._invocation(state, state["netns"]))
    assert len(veths(node)) == 2 and len(allocated(node)) == 2
    # A crash even earlier: only the record.
    early = node.uid()
    net._save(early, {**state, "podUID": early, "netns": f"/run/netns/kl-{early}", "portMappings": []})

    restarted = node.network()
    listed = {s.pod_uid: s.ip for s in await restarted.sandboxes()}
    assert listed[uid] == "" and listed[early] == ""
    await restarted.teardown(uid)
    await restarted.teardown(early)
    assert not exists(f"/run/netns/kl-{uid}")
    assert len(veths(node)) == 1 and len(allocated(node)) == 1
    assert {s.pod_uid for s in await restarted.sandboxes()} == {node.uids[0]}

    # setup() of a half-made sandbox starts over instead of returning it.
    net._save(uid, {**state, "portMappings": []})
    sandbox = await restarted.setup(uid, "default", "p", [])
    assert sandbox.ip and len(veths(node)) == 2


async def test_twenty_concurrent_setups(node: Node) -> None:
    net = node.network()
    uids = [node.uid() for _ in range(20)]
    started = time.perf_counter()
    sandboxes = await asyncio.gather(*(net.setup(uid, "default", f"p{i}", []) for i, uid in enumerate(uids)))
    elapsed = time.perf_counter() - started
    assert len({s.ip for s in sandboxes}) == 20
    assert allocated(node) == {s.ip for s in sandboxes}
    assert len(veths(node)) == 20
    assert elapsed < 20, elapsed
    await asyncio.gather(*(net.teardown(uid) for uid in uids))
    assert allocated(node) == set() and veths(node) == []
    assert not any(exists(s.netns_path) for s in sandboxes)
    assert host_mentions(node) == []


async def test_invalid_settings_are_refused(tmp_path: Path) -> None:
    paths = NodePaths(root=tmp_path / "agent", node_name="n")
    with pytest.raises(NetworkError, match="invalid pod CIDR"):
        CniNetwork(paths, pod_cidr="10.0.0.1/24")
    with pytest.raises(NetworkError, match="invalid bridge name"):
        CniNetwork(paths, pod_cidr="10.0.0.0/24", bridge="a-bridge-name-too-long")
    net = CniNetwork(paths, pod_cidr="10.0.0.0/24", node_netns="kltest-does-not-exist")
    with pytest.raises(NetworkError, match="invalid pod UID"):
        await net.setup("../etc", "default", "p", [])
    with pytest.raises(NetworkError, match=r"preparing pod networking: .*kltest-does-not-exist"):
        await net.setup("a-uid", "default", "p", [])
    assert await net.sandboxes() == []


async def test_cancelled_setup_leaves_nothing_half_made(node: Node) -> None:
    net = node.network()
    await net.setup(node.uid(), "default", "warm", [])
    for delay in (0.002, 0.01, 0.02, 0.04):
        uid = node.uid()
        task = asyncio.create_task(net.setup(uid, "default", "p", [PortMapping(18083, 80)]))
        await asyncio.sleep(delay)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Cleaned up, unless the cancel came too late to matter (then the sandbox is whole).
        listed = {s.pod_uid: s.ip for s in await net.sandboxes()}
        if uid in listed:
            assert listed[uid] and len(veths(node)) == 2
            await net.teardown(uid)
        assert not exists(f"/run/netns/kl-{uid}")
        assert len(veths(node)) == 1 and len(allocated(node)) == 1
        assert "18083" not in node.netns.run("iptables-save", "-t", "nat").stdout
