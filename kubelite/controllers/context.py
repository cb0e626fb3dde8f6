"""What every controller gets from the manager: the client, shared informers, event recorders, settings."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kubelite.client.events import EventRecorder
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient


@dataclass(frozen=True)
class ManagerConfig:
    kubeconfig: Path
    cluster_cidr: str = "10.42.0.0/16"
    node_cidr_mask_size: int = 24
    node_monitor_grace_period: float = 40.0  # a node silent this long becomes NotReady/Unknown
    pod_eviction_timeout: float = 300.0  # default toleration of the not-ready/unreachable taints
    lb_pool: str = ""  # CIDR or first-last for LoadBalancer Services; empty: the servicelb controller idles
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4()}")


@dataclass
class ControllerContext:
    client: RestClient
    informers: InformerFactory
    config: ManagerConfig
    recorders: dict[str, EventRecorder] = field(default_factory=dict)

    def recorder(self, component: str) -> EventRecorder:
        """The event recorder of one component, named as upstream names it (e.g. "deployment-controller")."""
        if component not in self.recorders:
            self.recorders[component] = EventRecorder(self.client, component=component)
        return self.recorders[component]


class Runnable(Protocol):
    async def run(self) -> None: ...


ControllerFactory = Callable[[ControllerContext], Runnable]
