"""What the pod loop asks of pod networking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PortMapping:
    """A container's hostPort, for the portmap plugin."""

    host_port: int
    container_port: int
    protocol: str = "tcp"  # lower case, as CNI's runtimeConfig spells it
    host_ip: str = ""


@dataclass(frozen=True)
class Sandbox:
    pod_uid: str
    netns_path: str  # /run/netns/<name>
    ip: str


class NetworkError(Exception):
    """The sandbox could not be set up; shown in a FailedCreatePodSandBox event."""


class PodNetwork(Protocol):
    """kubelite.agent.network.cni.CniNetwork implements this."""

    async def setup(self, pod_uid: str, namespace: str, name: str, ports: list[PortMapping]) -> Sandbox:
        """Create (or, after an agent restart, find) the pod's netns and wire it; idempotent."""
        ...

    async def teardown(self, pod_uid: str) -> None:
        """Undo setup: CNI DEL in reverse order, delete the netns, release the IP. Idempotent."""
        ...

    async def sandboxes(self) -> list[Sandbox]:
        """Every sandbox on this node (for adoption and for removing leftovers of deleted pods)."""
        ...
