"""`kubelite server`: the control plane in one process, each piece a task under one supervisor.

The API server starts first (it writes the kubeconfig the others use); the scheduler and the controller
manager then talk to it over HTTPS with that kubeconfig, exactly as separate processes would, each under its
own leader election so two servers sharing a datastore never run them twice.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from kubelite.apiserver.server import ApiServerConfig, StartupError, run
from kubelite.cli.hostaddress import primary_address
from kubelite.controllers import manager
from kubelite.controllers.context import ManagerConfig
from kubelite.scheduler import run as scheduler
from kubelite.util.supervisor import Supervisor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    datastore_endpoint: str
    bind_address: str
    port: int
    node_ip: str
    service_cidr: str
    cluster_cidr: str = "10.42.0.0/16"
    service_node_port_range: str = "30000-32767"

    @property
    def advertise_address(self) -> str | None:
        """--node-ip; else, bound to every address, the host's primary one (0.0.0.0 reaches nobody)."""
        if self.node_ip:
            return self.node_ip
        if self.bind_address in ("0.0.0.0", "::", ""):
            return primary_address()
        return None


async def run_server(config: ServerConfig) -> int:
    """Serve until SIGINT/SIGTERM or until a component fails; the exit code says which."""
    try:
        api = await run(
            ApiServerConfig(
                data_dir=config.data_dir,
                bind_address=config.bind_address,
                port=config.port,
                datastore_endpoint=config.datastore_endpoint,
                service_cidr=config.service_cidr,
                service_node_port_range=config.service_node_port_range,
                advertise_address=config.advertise_address,
            )
        )
    except StartupError as exc:
        log.error("cannot start: %s", exc)
        return 1
    supervisor = Supervisor()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stop)
    supervisor.start("apiserver", api.wait())
    supervisor.start("scheduler", scheduler.run(scheduler.SchedulerConfig(kubeconfig=api.kubeconfig_path)))
    supervisor.start(
        "controller-manager",
        manager.run(ManagerConfig(kubeconfig=api.kubeconfig_path, cluster_cidr=config.cluster_cidr)),
    )
    log.info("kubelite is ready; kubeconfig: %s", api.kubeconfig_path)
    try:
        await supervisor.wait()
    finally:
        log.info("stopping")
        await api.stop()
    return 1 if supervisor.failure else 0
