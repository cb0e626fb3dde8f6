"""`kubelite server` as a user runs it: the control plane comes up, its controllers act, SIGTERM stops it.

The server runs as a real subprocess on a free port with a temp data dir; the real kubectl drives it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.apiserver.conftest import KUBECTL
from tests.support.etcd import free_port


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig.yaml"

    def kubectl(
        self, *args: str, timeout: float = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        if KUBECTL is None:
            pytest.skip("kubectl is not installed")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env.update(
            KUBECONFIG=str(self.kubeconfig),
            KUBECACHEDIR=str(self.data_dir / "kubectl-cache"),
            HOME=str(self.data_dir),
        )
        proc = subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=timeout, env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}\n{self.log.read_text()}")
        return proc


def wait_for(condition: Callable[[], object], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubelite",
                "server",
                "--data-dir",
                str(data_dir),
                "--https-listen-port",
                str(free_port()),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = ServerProcess(process, data_dir, log)
    try:
        wait_for(running.kubeconfig.exists, within=30, what="the kubeconfig")
        wait_for(
            lambda: running.kubectl("get", "ns", check=False).returncode == 0,
            within=30,
            what="the API server",
        )
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


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

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0, server.log.read_text()
    assert server.process.poll() is not None
