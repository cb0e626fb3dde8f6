"""`kubelite agent`: join a cluster as node(s); `--runtime fake` simulates them (kubelite.agent.fake)."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from kubelite.agent import fake
from kubelite.client.kubeconfig import KubeConfigError
from kubelite.util.supervisor import Supervisor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentOptions:
    runtime: str
    server: str
    token_file: Path | None
    kubeconfig: Path | None
    certificate_authority: Path | None
    fake_nodes: int
    node_name: str
    node_ip: str
    node_labels: tuple[str, ...]
    node_taints: tuple[str, ...]
    capacity: tuple[str, ...]
    fake_job_duration: float
    lease_interval: float


def fake_config(options: AgentOptions) -> fake.FakeAgentConfig:
    """Raises ValueError (or KubeConfigError) with a message for the user when a flag is wrong."""
    labels = {}
    for item in options.node_labels:
        key, equals, value = item.partition("=")
        if not equals:
            raise ValueError(f"--node-label {item!r}: want key=value")
        labels[key] = value
    capacity = dict(fake.DEFAULT_CAPACITY)
    for item in options.capacity:
        key, equals, value = item.partition("=")
        if not equals:
            raise ValueError(f"--capacity {item!r}: want resource=quantity")
        capacity[key] = value
    client = fake.client_config(
        kubeconfig_path=options.kubeconfig,
        server=options.server,
        token_file=options.token_file,
        ca_file=options.certificate_authority,
    )
    return fake.FakeAgentConfig(
        client_config=client,
        nodes=options.fake_nodes,
        node_name_prefix=options.node_name,
        capacity=capacity,
        labels=labels,
        taints=tuple(fake.parse_taint(t) for t in options.node_taints),
        node_ip=options.node_ip,
        job_duration=options.fake_job_duration,
        lease_interval=options.lease_interval,
    )


async def run_agent(options: AgentOptions) -> int:
    if options.runtime != "fake":
        log.error("runtime %r is not available; use --runtime fake", options.runtime)
        return 2
    try:
        config = fake_config(options)
    except (ValueError, KubeConfigError) as exc:
        log.error("%s", exc)
        return 2
    supervisor = Supervisor()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stop)
    supervisor.start("fake agent", fake.run(config))
    await supervisor.wait()
    return 1 if supervisor.failure else 0
