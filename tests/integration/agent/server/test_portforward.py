"""port-forward through the API server to a listener inside a network namespace: kubectl (SPDY in
WebSocket) and the Python client (channel protocol)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes.stream import portforward

from tests.integration.agent.server.conftest import Node

# Port 8080 answers "pong:" + all it got once the client half-closes; 8090 echoes every chunk at once.
_ECHO = """
import socket, threading
def serve(c, whole):
    data = b""
    while chunk := c.recv(65536):
        if whole:
            data += chunk
        else:
            c.sendall(chunk)
    c.sendall(b"pong:" + data); c.close()
def listen(port, whole):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(16)
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c, whole), daemon=True).start()
threading.Thread(target=listen, args=(8090, False), daemon=True).start()
listen(8080, True)
"""


@pytest.fixture(scope="module")
def pod(node: Node) -> Iterator[str]:
    node.add_pod("web")
    listener = subprocess.Popen(["ip", "netns", "exec", node.netns.name, sys.executable, "-c", _ECHO])
    try:
        for _ in range(50):
            listening = node.netns.run("ss", "-ltn", check=False).stdout
            if ":8080" in listening and ":8090" in listening:
                break
            time.sleep(0.1)
        yield "web"
    finally:
        listener.kill()
        listener.wait()


def _ask(port: int, message: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(message)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        return answer


def test_kubectl_port_forward_with_concurrent_connections(node: Node, pod: str) -> None:
    proc = node.server.kubectl_popen("port-forward", f"pod/{pod}", ":8080")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+) -> 8080", line)
        assert match, line
        local = int(match.group(1))
        big = b"x" * 200_000
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda m: _ask(local, m), [b"a", b"b", big, b"c"]))
        assert answers == [b"pong:a", b"pong:b", b"pong:" + big, b"pong:c"]
    finally:
        proc.kill()
        proc.communicate()


def test_python_client_port_forward_and_a_refused_port(node: Node, pod: str) -> None:
    pf = portforward(node.core.connect_get_namespaced_pod_portforward, pod, "default", ports="8090,8081")
    try:
        sock = pf.socket(8090)
        sock.settimeout(10)
        sock.sendall(b"hello")
        assert sock.recv(100) == b"hello"
        sock.sendall(b"again")
        assert sock.recv(100) == b"again"
        for _ in range(100):
            if pf.error(8081) is not None:
                break
            time.sleep(0.1)
        assert "error forwarding port 8081" in (pf.error(8081) or "")
    finally:
        pf.close()


def test_port_forward_needs_a_running_pod(node: Node) -> None:
    node.add_pod("pending", phase="Pending")
    out = node.server.kubectl("port-forward", "pod/pending", ":80", check=False, timeout=20)
    assert "pod is not running. Current status=Pending" in out.stderr  # kubectl's own check
    raw = "/api/v1/namespaces/default/pods/pending/portforward?ports=80"
    refused = node.server.kubectl("get", "--raw", raw, check=False, timeout=20)
    assert (
        refused.stderr.strip()
        == "Error from server (BadRequest): pod is not running - current status Pending"
    )
