"""A real multi-node cluster on one machine: hosts are network namespaces on a LAN of the test's own.

    LAN: a netns holding bridge br0; each host below gets a veth into it (eth0, 192.168.77.0/24).
    server  192.168.77.10  `kubelite server --bind-address 0.0.0.0 --node-ip ...` (also a node)
    agents  192.168.77.11… `kubelite agent --server https://192.168.77.10:6443 --token-file ...`
    client  192.168.77.100 an "external" machine with no kubelite, for NodePort/LoadBalancer traffic

Every process runs inside its host's namespace (nsenter), each with a data dir of its own, so the pods'
bridges, iptables rules and routes of one node never meet another's, and nothing reaches the host's own
network. On exit: processes are killed by pid, the agents' leftovers (containers, mounts, pod netns,
cgroups) removed, and every namespace deleted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.cluster import ServerProcess, cleanup_agent_leftovers, start_server, wait_for
from tests.support.netns import NetNamespace

SUBNET = "192.168.77"
SERVER_IP = f"{SUBNET}.10"
CLIENT_IP = f"{SUBNET}.100"
LB_POOL = f"{SUBNET}.200-{SUBNET}.220"  # for `--lb-pool` once the server takes it


@dataclass
class Host:
    netns: NetNamespace
    ip: str

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.netns.run(*command, check=check)


@dataclass
class AgentProcess:
    host: Host
    node_name: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class MultiNodeCluster:
    server: ServerProcess
    server_node: str
    server_host: Host
    client: Host
    agents: list[AgentProcess] = field(default_factory=list)

    @property
    def node_names(self) -> list[str]:
        return [self.server_node, *(agent.node_name for agent in self.agents)]

    def kubectl(self, *args: str, check: bool = True, input: str | None = None, timeout: float = 60) -> str:
        done = self.server.kubectl(*args, check=check, input=input, timeout=timeout)
        return done.stdout if check else done.stdout + done.stderr

    def ready_nodes(self) -> set[str]:
        nodes = json.loads(self.kubectl("get", "nodes", "-o", "json"))["items"]
        return {
            node["metadata"]["name"]
            for node in nodes
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in (node.get("status") or {}).get("conditions") or ()
            )
        }

    def logs(self) -> str:
        parts = [f"--- server\n{self.server.log_tail()}"]
        parts += [f"--- {agent.node_name}\n{agent.log_tail()}" for agent in self.agents]
        return "\n".join(parts)


class Lan:
    """A bridge in a namespace of its own: the switch every host's eth0 plugs into."""

    def __init__(self, netns: NetNamespace) -> None:
        self.netns = netns
        self.ports = 0
        netns.run("ip", "link", "add", "br0", "type", "bridge")
        netns.run("ip", "link", "set", "br0", "up")

    def plug(self, host: NetNamespace, ip: str) -> Host:
        port = f"port{self.ports}"
        self.ports += 1
        self.netns.run("ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.name)
        self.netns.run("ip", "link", "set", port, "master", "br0", "up")
        host.run("ip", "addr", "add", f"{ip}/24", "dev", "eth0")
        host.run("ip", "link", "set", "eth0", "up")
        return Host(host, ip)


def join_token(server_data: Path) -> str:
    """What an administrator copies to a new node: the output of `kubelite token` on the server."""
    command = [sys.executable, "-m", "kubelite", "token", "--data-dir", str(server_data)]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def start_agent(directory: Path, host: Host, node_name: str, server_data: Path) -> AgentProcess:
    data_dir = directory / "data"
    log = directory / "agent.log"
    directory.mkdir(parents=True, exist_ok=True)
    token_file = directory / "token"
    token_file.write_text(join_token(server_data) + "\n")
    token_file.chmod(0o600)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*host.netns.enter, sys.executable, "-m", "kubelite", "agent",
             "--server", f"https://{SERVER_IP}:6443",
             "--token-file", str(token_file),
             "--certificate-authority", str(server_data / "server" / "tls" / "ca.crt"),
             "--node-ip", host.ip, "--node-name", node_name, "--data-dir", str(data_dir),
             "--resolv-conf", ""],  # cluster DNS forwards nowhere under test
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return AgentProcess(host, node_name, process, data_dir, log)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


@contextmanager
def multinode_cluster(
    directory: Path, *, agents: int = 2, server_args: tuple[str, ...] = ()
) -> Iterator[MultiNodeCluster]:
    """A server node and `agents` agent nodes (server, agent0, agent1, ...), all Ready, plus an external
    client host."""
    server_node = "server"
    with ExitStack() as stack:
        lan = Lan(stack.enter_context(NetNamespace("kllan")))
        server_host = lan.plug(stack.enter_context(NetNamespace("klsrv")), SERVER_IP)
        client = lan.plug(stack.enter_context(NetNamespace("klcli")), CLIENT_IP)
        hosts = [
            lan.plug(stack.enter_context(NetNamespace("klagt")), f"{SUBNET}.{11 + i}") for i in range(agents)
        ]
        (directory / "server").mkdir(parents=True, exist_ok=True)
        server = start_server(
            directory / "server", server_host.netns,
            "--bind-address", "0.0.0.0", "--node-ip", SERVER_IP, "--node-name", server_node, *server_args,
        )
        stack.callback(cleanup_agent_leftovers, server.data_dir / "agent")
        stack.callback(_kill, server.process)
        cluster = MultiNodeCluster(server, server_node, server_host, client)
        # The server's own agent prepares the host (cgroup mounts) first: agents started with it would race.
        wait_for(lambda: server_node in cluster.ready_nodes(), within=60, what="the server node Ready")
        for i, host in enumerate(hosts):
            agent = start_agent(directory / f"agent{i}", host, f"agent{i}", server.data_dir)
            stack.callback(cleanup_agent_leftovers, agent.data_dir / "agent")
            stack.callback(_kill, agent.process)
            cluster.agents.append(agent)
        try:
            wait_for(lambda: cluster.ready_nodes() == set(cluster.node_names), within=90, what="nodes Ready")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{cluster.logs()}") from None
        yield cluster
