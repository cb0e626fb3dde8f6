"""The pod loop's small collaborators (env, pod files, hooks) bound to the real modules."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path

from kubelite.agent.network.podfiles import pod_files, write_pod_files
from kubelite.agent.paths import NodePaths
from kubelite.agent.pods.actions import ExecRuntime
from kubelite.agent.pods.environment import Environment, build_env
from kubelite.agent.pods.hooks import run_hook
from kubelite.agent.pods.types import JSON, PodHelpers
from kubelite.agent.volumes.sources import ObjectSource
from kubelite.client.rest import RestClient


def real_helpers(
    client: RestClient,
    runtime: ExecRuntime,
    paths: NodePaths,
    *,
    cluster_dns: Sequence[str],
    cluster_domain: str = "cluster.local",
    service_env: Mapping[str, str] | None = None,
    host_resolv: Path = Path("/etc/resolv.conf"),
    allocatable: Mapping[str, str] | None = None,
) -> PodHelpers:
    """`service_env` is the {SVC_SERVICE_HOST: ...} variables; the caller keeps that mapping current."""
    objects = ObjectSource(client, ttl=0)
    services = service_env if service_env is not None else {}

    async def env(pod: JSON, container: JSON) -> Environment:
        return await build_env(objects, pod, container, service_env=services, allocatable=allocatable)

    def write(pod: JSON, pod_ip: str) -> None:
        node_hosts = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else ""
        resolv = host_resolv.read_text() if host_resolv.exists() else ""
        files = pod_files(
            pod,
            pod_ips=[pod_ip],
            cluster_dns=cluster_dns,
            cluster_domain=cluster_domain,
            host_resolv=resolv,
            node_hosts=node_hosts,
            node_hostname=socket.gethostname(),
        )
        write_pod_files(paths.pod(pod["metadata"]["uid"]), files)

    async def files(pod: JSON, pod_ip: str) -> None:
        await asyncio.to_thread(write, pod, pod_ip)

    async def hook(
        handler: JSON,
        *,
        container_id: str,
        netns_path: str | None,
        pod_ip: str,
        timeout: float,  # noqa: ASYNC109 - the HookRunner signature
        pod: JSON | None = None,
        container: JSON | None = None,
    ) -> str | None:
        return await run_hook(
            runtime,
            handler,
            container_id=container_id,
            netns_path=netns_path,
            pod_ip=pod_ip,
            timeout=timeout,
            pod=pod,
            container=container,
        )

    return PodHelpers(build_env=env, write_pod_files=files, run_hook=hook)
