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

from kubelite.agent.config import (
    DEFAULT_CLUSTER_DOMAIN,
    DEFAULT_KUBELET_PORT,
    AgentConfig,
    cluster_dns_address,
    default_node_name,
)
from kubelite.agent.fake import parse_taint
from kubelite.apiserver.server import ApiServerConfig, StartupError, run
from kubelite.cli.agent import node, parse_labels, resolv_conf_path
from kubelite.cli.hostaddress import primary_address
from kubelite.client import kubeconfig
from kubelite.controllers import manager
from kubelite.controllers.context import ManagerConfig
from kubelite.controllers.servicelb import AddressPool
from kubelite.scheduler import run as scheduler
from kubelite.util import datadirlock, memory
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
    lb_pool: str = ""
    disable_agent: bool = False
    runtime: str = "crun"
    node_name: str = ""
    node_labels: tuple[str, ...] = ()
    node_taints: tuple[str, ...] = ()
    kubelet_port: int = DEFAULT_KUBELET_PORT
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    insecure_registries: tuple[str, ...] = ()
    strict_image_pulls: bool = False
    resolv_conf: str = "/etc/resolv.conf"

    @property
    def advertise_address(self) -> str | None:
        """--node-ip; else, bound to every address, the host's primary one (0.0.0.0 reaches nobody)."""
        if self.node_ip:
            return self.node_ip
        if self.bind_address in ("0.0.0.0", "::", ""):
            return primary_address()
        return None

    def agent_config(self, kubeconfig_path: Path) -> AgentConfig:
        """The in-process agent: this machine as a node, talking to the API server like any other."""
        return AgentConfig(
            client_config=kubeconfig.load(kubeconfig_path),
            data_dir=self.data_dir,
            node_name=self.node_name or default_node_name(),
            node_ip=self.advertise_address or self.bind_address,
            runtime=self.runtime,
            kubelet_port=self.kubelet_port,
            cluster_dns=(cluster_dns_address(self.service_cidr),),
            cluster_domain=self.cluster_domain,
            labels={"node-role.kubernetes.io/control-plane": "true", **parse_labels(self.node_labels)},
            taints=tuple(parse_taint(t) for t in self.node_taints),
            insecure_registries=self.insecure_registries,
            strict_image_pulls=self.strict_image_pulls,
        )


async def run_server(config: ServerConfig) -> int:
    """Serve until SIGINT/SIGTERM or until a component fails; the exit code says which."""
    try:
        with datadirlock.hold(config.data_dir):  # `kubelite uninstall` refuses while we run
            return await _serve(config)
    except datadirlock.DataDirInUse as exc:
        log.error("cannot start: %s", exc)
        return 1


async def _serve(config: ServerConfig) -> int:
    if config.lb_pool:
        try:
            AddressPool(config.lb_pool)
        except ValueError as exc:
            log.error("--lb-pool: %s", exc)
            return 2
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
    memory.settle_heap()
    supervisor = Supervisor()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stop)
    supervisor.start("apiserver", api.wait())
    supervisor.start("scheduler", scheduler.run(scheduler.SchedulerConfig(kubeconfig=api.kubeconfig_path)))
    supervisor.start(
        "controller-manager",
        manager.run(
            ManagerConfig(
                kubeconfig=api.kubeconfig_path, cluster_cidr=config.cluster_cidr, lb_pool=config.lb_pool
            )
        ),
    )
    if not config.disable_agent:
        try:
            this_node = node(
                config.agent_config(api.kubeconfig_path),
                config.cluster_cidr,
                resolv_conf_path(config.resolv_conf),
            )
        except OSError as exc:
            log.error("cannot start this machine's node: %s", exc)
            await api.stop()
            return 1
        supervisor.start("node", this_node)
    log.info("kubelite is ready; kubeconfig: %s", api.kubeconfig_path)
    try:
        await supervisor.wait()
    finally:
        log.info("stopping")
        await api.stop()
    return 1 if supervisor.failure else 0
