"""Network namespaces a test creates for itself (the traffic rule: tests talk only to loopback or to these).

A node under test does its pod networking inside one of these: its bridge, its iptables rules and its pods'
veths live there and vanish with it.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from types import TracebackType


class NetNamespace:
    """`ip netns add` on enter (loopback up), `ip netns delete` on exit."""

    def __init__(self, prefix: str = "kltest") -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:8]}"

    @property
    def path(self) -> str:
        return f"/run/netns/{self.name}"

    @property
    def enter(self) -> tuple[str, ...]:
        """A command prefix that runs in this namespace. Unlike `ip netns exec` it keeps the host's /sys
        mounts (a node agent needs the cgroup hierarchies under /sys/fs/cgroup)."""
        return ("nsenter", f"--net={self.path}", "--")

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A command inside the namespace."""
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *command], check=check, capture_output=True, text=True
        )

    def __enter__(self) -> NetNamespace:
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        self.run("ip", "link", "set", "lo", "up")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if os.path.exists(self.path):
            subprocess.run(["ip", "netns", "delete", self.name], check=False, capture_output=True)
