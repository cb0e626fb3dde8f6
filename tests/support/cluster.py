"""`kubelite server` as a user runs it — a real subprocess — inside a network namespace of the test's own.

The server, its in-process agent, the pods' bridge and every pod live in that namespace, so pod traffic never
touches the host's network; kubectl runs in the namespace too and reaches the API server on its loopback.
On exit the server is killed by pid and the namespace deleted; the agent's leftovers (containers, mounts,
cgroups) are removed by `cleanup_agent_leftovers`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelite.agent import uninstall
from kubelite.agent.network.cni import netns_name
from kubelite.agent.runtime import cgroups
from kubelite.agent.volumes import sysmount
from tests.support.netns import NetNamespace

KUBECTL = "kubectl"


def wait_for(condition: Callable[[], object], *, within: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    netns: NetNamespace

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig.yaml"

    def kubectl_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env.update(
            KUBECONFIG=str(self.kubeconfig),
            KUBECACHEDIR=str(self.data_dir / "kubectl-cache"),
            HOME=str(self.data_dir),
        )
        return env

    def kubectl_command(self, *args: str) -> list[str]:
        return [*self.netns.enter, KUBECTL, *args]

    def kubectl(
        self, *args: str, timeout: float = 60, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self.kubectl_command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.kubectl_env(),
            input=input,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}\n{self.log_tail()}")
        return proc

    def kubectl_json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def start_server(directory: Path, netns: NetNamespace, *extra: str) -> ServerProcess:
    data_dir = directory / "data"
    log = directory / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            # Cluster DNS forwards nowhere: pods under test never reach the host's resolver.
            [*netns.enter, sys.executable, "-m", "kubelite", "server",
             "--data-dir", str(data_dir), "--resolv-conf", "", *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = ServerProcess(process, data_dir, log, netns)
    try:
        wait_for(running.kubeconfig.exists, within=30, what="the kubeconfig")
        wait_for(
            lambda: running.kubectl("get", "ns", check=False).returncode == 0,
            within=30,
            what="the API server",
        )
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return running


@contextmanager
def server_in_netns(directory: Path, *extra: str) -> Iterator[ServerProcess]:
    with NetNamespace("klsrv") as netns:
        give_default_route(netns)
        running = start_server(directory, netns, *extra)
        try:
            yield running
        finally:
            if running.process.poll() is None:
                running.process.kill()
                running.process.wait(timeout=10)
            cleanup_agent_leftovers(running.data_dir / "agent")


def give_default_route(netns: NetNamespace) -> None:
    """A default route, as every real host has (the proxy's DNAT happens after the routing decision, so a
    ClusterIP must be routable from the node). It leads into a veth pair that ends in the same namespace, in
    TEST-NET-1: nothing leaves."""
    netns.run("ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
    netns.run("ip", "addr", "add", "192.0.2.2/24", "dev", "uplink0")
    netns.run("ip", "link", "set", "uplink0", "up")
    netns.run("ip", "link", "set", "uplink1", "up")
    netns.run("ip", "route", "add", "default", "via", "192.0.2.1")


def cleanup_agent_leftovers(agent_dir: Path) -> None:
    """What a stopped or killed agent leaves on purpose (running containers outlive it, as with k3s) goes:
    monitors and containers killed by pid, mounts unmounted, pod netns deleted, cgroups removed. The
    product's uninstall does more (it checks a pid is still the container's; here every recorded pid is
    killed, as a test may have stopped the agent at any point), but the network parts are left to deleting
    the node's namespace."""
    if not agent_dir.exists():
        return
    for pidfile in [*agent_dir.glob("containers/*/conmon.pid"), *agent_dir.glob("containers/*/pidfile")]:
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    for point in reversed(sysmount.mount_points_under(agent_dir)):
        sysmount.unmount(point)
    for record in agent_dir.glob("cni/sandboxes/*.json"):
        subprocess.run(["ip", "netns", "delete", netns_name(record.stem)], check=False, capture_output=True)
    for cgroup in uninstall.node_cgroups(agent_dir.parent):
        cgroups.remove(cgroup)
