"""`kubelite server` as a user runs it: the control plane comes up, its controllers act, SIGTERM stops it.

The server runs as a real subprocess with a temp data dir, in a network namespace of the test's own (its
in-process agent wires pods there); the real kubectl drives it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import ServerProcess, cleanup_agent_leftovers, server_in_netns, wait_for


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with server_in_netns(tmp_path) as running:
        yield running


def test_server_runs_the_controllers_and_stops_on_sigterm(server: ServerProcess) -> None:
    server.kubectl("create", "namespace", "doomed")
    server.kubectl("create", "configmap", "settings", "-n", "doomed", "--from-literal=a=b")

    # The serviceaccount controller gives every namespace its `default` account.
    wait_for(
        lambda: server.kubectl("get", "sa", "default", "-n", "doomed", check=False).returncode == 0,
        within=30,
        what="the default ServiceAccount",
    )

    # kubectl waits until the namespace controller has emptied the namespace and released it.
    server.kubectl("delete", "namespace", "doomed", "--timeout=60s", timeout=90)
    gone = server.kubectl("get", "namespace", "doomed", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr

    assert server.stop(signal.SIGTERM) == 0, server.log_tail()


def test_a_separate_agent_joins_a_server_without_its_own(tmp_path: Path) -> None:
    with server_in_netns(tmp_path, "--disable-agent", "--kubelet-port", "10250") as server:
        assert server.kubectl("get", "nodes").stdout == ""  # --disable-agent: this machine runs no pods
        join_token = subprocess.run(
            [sys.executable, "-m", "kubelite", "token", "--data-dir", str(server.data_dir)],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        agent_log = (tmp_path / "agent.log").open("wb")
        agent = subprocess.Popen(
            [*server.netns.enter, sys.executable, "-m", "kubelite", "agent",
             "--server", "https://127.0.0.1:6443", "--token", join_token,
             "--certificate-authority", str(server.data_dir / "server" / "tls" / "ca.crt"),
             "--data-dir", str(tmp_path / "worker"), "--node-name", "worker",
             "--node-ip", "127.0.0.1", "--kubelet-port", "10251"],
            stdout=agent_log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: " Ready " in server.kubectl("get", "node", "worker", check=False).stdout,
                     within=60, what="the worker node")
            server.kubectl("run", "job", "--image=busybox", "--restart=Never", "--", "echo", "ran on worker")
            wait_for(lambda: server.kubectl("get", "pod", "job", "-o", "jsonpath={.status.phase}").stdout
                     == "Succeeded", within=60, what="the pod on the worker")
            assert server.kubectl("logs", "job").stdout == "ran on worker\n"  # through the worker's port
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(timeout=30) == 0
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait(timeout=10)
            agent_log.close()
            cleanup_agent_leftovers(tmp_path / "worker" / "agent")
