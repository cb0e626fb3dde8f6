"""A node's pod network built by hand, for the service proxy's tests and benchmark.

A "node" network namespace holds a bridge (10.42.0.1/24, hairpin on its ports, as the CNI bridge plugin
sets up) and an uplink with the node IP and the default route (so unknown destinations are routed, as on a
real node, instead of failing before iptables sees them); the uplink's peer is an "outside" netns, a client
beyond the node that routes a LoadBalancer IP to it. Each "pod" is a network namespace with a veth on the
bridge running `busybox httpd` on port 8080, answering its name (and /cgi-bin/client: the client address).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.support.netns import NetNamespace

NODE_IP = "192.168.77.2"
OUTSIDE_IP = "192.168.77.3"
LOAD_BALANCER_IP = "192.0.2.50"
GATEWAY = "10.42.0.1"
HTTP_PORT = 8080

# /cgi-bin/client answers with the client address the pod saw (httpd writes IPv4 as [::ffff:a.b.c.d]).
CLIENT_CGI = """#!/bin/sh
address=${REMOTE_ADDR#[[]::ffff:}
printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "${address%]}"
"""

# /cgi-bin/peer: "address:port" of the client as the pod saw it.
PEER_CGI = """#!/bin/sh
address=${REMOTE_ADDR#[[]::ffff:}
printf 'Content-Type: text/plain\\r\\n\\r\\n%s:%s\\n' "${address%]}" "$REMOTE_PORT"
"""

# GET /cgi-bin/peer from a chosen source port: argv host, port, source port.
PEER_CLIENT = """
import socket, sys
with socket.socket() as s:
    s.bind(("", int(sys.argv[3])))
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.sendall(b"GET /cgi-bin/peer HTTP/1.0\\r\\n\\r\\n")
    reply = b""
    while chunk := s.recv(65536):
        reply += chunk
print(reply.split(b"\\r\\n\\r\\n", 1)[1].decode().strip())
"""


@dataclass
class Pod:
    name: str
    ip: str
    netns: NetNamespace


class PodNetwork:
    def __init__(self, pods: int = 2) -> None:
        self._count = pods
        self._stack = ExitStack()
        self._processes: list[subprocess.Popen[bytes]] = []
        self.pods: list[Pod] = []
        self.node = NetNamespace("klpxnode")
        self.outside = NetNamespace("klpxout")
        self._www = Path(tempfile.mkdtemp(prefix="klproxy-"))

    def __enter__(self) -> PodNetwork:
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _setup(self) -> None:
        node = self._stack.enter_context(self.node)
        node.run("ip", "link", "add", "br0", "type", "bridge")
        node.run("ip", "addr", "add", f"{GATEWAY}/24", "dev", "br0")
        node.run("ip", "link", "set", "br0", "up")
        outside = self._stack.enter_context(self.outside)
        node.run("ip", "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", outside.name)
        outside.run("ip", "addr", "add", f"{OUTSIDE_IP}/24", "dev", "eth0")
        outside.run("ip", "link", "set", "eth0", "up")
        outside.run("ip", "route", "add", f"{LOAD_BALANCER_IP}/32", "via", NODE_IP)
        node.run("ip", "addr", "add", f"{NODE_IP}/24", "dev", "uplink")
        node.run("ip", "link", "set", "uplink", "up")
        node.run("ip", "route", "add", "default", "dev", "uplink")
        node.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        for index in range(self._count):
            self.pods.append(self._pod(index))

    def _pod(self, index: int) -> Pod:
        pod_ns = self._stack.enter_context(NetNamespace("klpxpod"))
        ip = f"10.42.0.{11 + index}"
        host_end = f"veth{uuid.uuid4().hex[:8]}"
        self.node.run(
            "ip", "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", pod_ns.name
        )
        self.node.run("ip", "link", "set", host_end, "master", "br0", "up")
        self.node.run("bridge", "link", "set", "dev", host_end, "hairpin", "on")
        pod_ns.run("ip", "addr", "add", f"{ip}/24", "dev", "eth0")
        pod_ns.run("ip", "link", "set", "eth0", "up")
        pod_ns.run("ip", "route", "add", "default", "via", GATEWAY)
        root = self._www / f"pod{index}"
        root.mkdir()
        (root / "index.html").write_text(f"pod{index}\n")
        (root / "cgi-bin").mkdir()
        (root / "cgi-bin" / "client").write_text(CLIENT_CGI)
        (root / "cgi-bin" / "client").chmod(0o755)
        (root / "cgi-bin" / "peer").write_text(PEER_CGI)
        (root / "cgi-bin" / "peer").chmod(0o755)
        self._processes.append(
            subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    pod_ns.name,
                    "busybox",
                    "httpd",
                    "-f",
                    "-p",
                    str(HTTP_PORT),
                    "-h",
                    str(root),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        return Pod(name=f"pod{index}", ip=ip, netns=pod_ns)

    def close(self) -> None:
        for process in self._processes:
            process.kill()
            process.wait()
        self._stack.close()
        shutil.rmtree(self._www, ignore_errors=True)


async def http_get(netns: NetNamespace, url: str) -> tuple[bool, str]:
    """(True, body) or (False, wget's complaint), fetched from inside `netns` with busybox wget."""
    process = await asyncio.create_subprocess_exec(
        *netns.enter,
        "timeout",
        "3",
        "busybox",
        "wget",
        "-q",
        "-O",
        "-",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode == 0:
        return True, out.decode().strip()
    return False, err.decode().strip() or f"exit {process.returncode}"


async def peer_seen(netns: NetNamespace, host: str, port: int, source_port: int) -> str:
    """The "address:port" the pod behind `host:port` saw for a connection from `netns` from `source_port`."""
    process = await asyncio.create_subprocess_exec(
        *netns.enter,
        sys.executable,
        "-c",
        PEER_CLIENT,
        host,
        str(port),
        str(source_port),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 10)
    return out.decode().strip()
