"""`kubelite uninstall` leaves nothing of a node behind: no containers, mounts, netns, cgroups, proxy rules,
DNS address, bridge or data dir — and refuses to start while the node still runs.

The server runs in a network namespace of the test's own (tests.support.cluster); uninstall runs there too,
as an administrator would run it on the node.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kubelite.agent import uninstall
from kubelite.agent.network.cni import netns_name
from kubelite.agent.volumes import sysmount
from tests.support.cluster import ServerProcess, server_in_netns, wait_for

APP = """
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {medium: Memory}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""


def uninstall_node(server: ServerProcess) -> subprocess.CompletedProcess[str]:
    command = [*server.netns.enter, sys.executable, "-m", "kubelite", "uninstall", "--data-dir",
               str(server.data_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def recorded_pids(agent_dir: Path) -> list[int]:
    files = [*agent_dir.glob("containers/*/conmon.pid"), *agent_dir.glob("containers/*/pidfile")]
    return [int(path.read_text().strip()) for path in files]


def test_uninstall_removes_everything_a_stopped_node_left_and_refuses_while_it_runs(tmp_path: Path) -> None:
    with server_in_netns(tmp_path) as server:
        wait_for(lambda: " Ready " in server.kubectl("get", "nodes", check=False).stdout, within=60,
                 what="the node")
        server.kubectl("apply", "-f", "-", input=APP)
        port = server.kubectl("get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}").stdout

        def answers() -> bool:
            fetch = ("timeout", "3", "busybox", "wget", "-qO-", f"http://127.0.0.1:{port}/")
            return server.netns.run(*fetch, check=False).stdout.strip() == "hello"

        wait_for(answers, within=60, what="the NodePort to answer")
        uid = server.kubectl_json("get", "pod", "web")["metadata"]["uid"]

        refused = uninstall_node(server)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"kubelite process {server.process.pid} is still using {server.data_dir}" in refused.stderr
        assert (server.data_dir / "server").is_dir() and answers()

        assert server.stop() == 0
        agent_dir = server.data_dir / "agent"
        # What a stopped node leaves on purpose, and what uninstall must remove.
        pids = recorded_pids(agent_dir)
        assert len(pids) == 2 and all(map(alive, pids))
        assert sysmount.mount_points_under(server.data_dir)
        assert "KL-SERVICES" in server.netns.run("iptables-save").stdout
        cgroups_before = uninstall.node_cgroups(server.data_dir)
        assert cgroups_before
        # A LoadBalancer address the node was announcing (kubelite.proxy.announce labels it <if>:kllb).
        server.netns.run("ip", "addr", "add", "192.0.2.7/32", "dev", "lo", "label", "lo:kllb")

        done = uninstall_node(server)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "[1/10] containers and their monitors: 2 processes killed" in done.stdout
        assert not any(map(alive, pids))
        assert not sysmount.mount_points_under(server.data_dir)
        assert not os.path.exists(f"/run/netns/{netns_name(uid)}")
        saved = server.netns.run("iptables-save").stdout
        assert "KL-" not in saved and "CNI-" not in saved  # also the bridge plugin's masquerade chains
        loopback = server.netns.run("ip", "addr", "show", "dev", "lo").stdout
        assert "10.43.0.10" not in loopback and "192.0.2.7" not in loopback
        assert server.netns.run("ip", "link", "show", "cni0", check=False).returncode != 0
        assert not uninstall.node_cgroups(server.data_dir)
        assert not server.data_dir.exists()

        again = uninstall_node(server)  # idempotent: nothing left to do, and no error saying so
        assert again.returncode == 0, again.stdout + again.stderr
        assert "2 processes killed" not in again.stdout and "FAILED" not in again.stdout
        assert again.stdout.count("\n") == 10  # a line per step
