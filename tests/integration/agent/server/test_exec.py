"""exec through the API server to the agent: kubectl and the official Python client; the agent port's TLS."""

from __future__ import annotations

import shlex
import shutil
import socket
import ssl
import subprocess
from typing import Any

import pytest
from kubernetes.stream import stream

from tests.integration.agent.server.conftest import Node


def _close(resp: Any) -> None:
    """WSClient.close() leaves the socket open once the server has closed the session: shut it too."""
    resp.close()
    resp.sock.shutdown()


@pytest.fixture(scope="module")
def pod(node: Node) -> str:
    node.add_pod("shell")
    return "shell"


def test_kubectl_exec_plain_stdin_and_exit_code(node: Node, pod: str) -> None:
    assert node.server.kubectl("exec", pod, "--", "echo", "hi there").stdout == "hi there\n"
    piped = node.server.kubectl("exec", "-i", pod, "--", "sh", "-c", "tr a-z A-Z", input="hello\n")
    assert piped.stdout == "HELLO\n"
    failed = node.server.kubectl("exec", pod, "--", "sh", "-c", "echo oops >&2; exit 3", check=False)
    assert failed.returncode == 3 and "oops" in failed.stderr


def test_python_client_exec_with_stdin_stderr_and_returncode(node: Node, pod: str) -> None:
    resp = stream(
        node.core.connect_get_namespaced_pod_exec,
        pod,
        "default",
        command=["sh", "-c", "read line; echo got $line; echo bad >&2; exit 2"],
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    resp.write_stdin("ping\n")
    resp.run_forever(timeout=20)
    assert resp.read_stdout() == "got ping\n" and resp.read_stderr() == "bad\n"
    assert resp.returncode == 2
    _close(resp)


def test_python_client_exec_with_a_tty(node: Node, pod: str) -> None:
    resp = stream(
        node.core.connect_get_namespaced_pod_exec,
        pod,
        "default",
        command=["sh", "-c", "tty; stty size"],
        stdin=True,
        stdout=True,
        stderr=True,
        tty=True,
        _preload_content=False,
    )
    try:
        resp.write_channel(4, '{"Width":100,"Height":30}')
        resp.run_forever(timeout=20)
        lines = resp.read_stdout().replace("\r", "").split("\n")
    finally:
        _close(resp)
    assert lines[0].startswith("/dev/pts/") and resp.returncode == 0


def test_kubectl_exec_on_a_terminal_passes_its_size(node: Node, pod: str) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    # The size message follows the start: give it a moment before asking.
    command = "tty; sleep 0.3; stty size"
    inner = f"stty cols 77 rows 11; {shlex.quote(kubectl)} exec -it {pod} -- sh -c {shlex.quote(command)}"
    out = subprocess.run(
        ["script", "-qec", inner, "/dev/null"],
        capture_output=True,
        text=True,
        timeout=30,
        env=node.server.kubectl_env(),
        stdin=subprocess.DEVNULL,
    )
    lines = out.stdout.replace("\r", "").splitlines()
    # (script's own stdin ends at once; what kubectl makes of that may be echoed before the size)
    assert lines[0].startswith("/dev/pts/") and lines[1].endswith("11 77"), out


def test_exec_errors_are_statuses(node: Node, pod: str) -> None:
    missing = node.server.kubectl("exec", pod, "-c", "nope", "--", "ls", check=False)
    assert "container nope is not valid for pod shell" in missing.stderr
    node.add_pod("finished", phase="Succeeded")
    done = node.server.kubectl("exec", "finished", "--", "ls", check=False)
    assert "cannot exec into a container in a completed pod; current phase is Succeeded" in done.stderr
    attach = node.server.kubectl("attach", pod, check=False, timeout=20)
    assert "attach is not supported for container main" in attach.stderr


def test_the_agent_port_refuses_clients_without_a_cluster_certificate(node: Node) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", node.agent.port), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with ctx.wrap_socket(raw) as tls:
                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                if not tls.recv(100):
                    raise ConnectionResetError("closed without an answer")
