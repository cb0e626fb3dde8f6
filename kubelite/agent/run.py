"""A real node agent: `serve(config, client, informers)` prepares the host, registers the Node and runs pods.

Start-up order matters: the host is prepared and the built-in busybox image exists before the Node is
registered (so the first pod finds both); the pod network needs the podCIDR that the node IPAM controller
writes into the Node after registration; the agent's HTTPS port is up before pods run, so their logs can be
read from the first line.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from kubelite.agent.config import AgentConfig
from kubelite.agent.hostprep import prepare_host
from kubelite.agent.images.autoimport import ArchiveImporter
from kubelite.agent.images.builtin import ensure_builtin_busybox
from kubelite.agent.images.gc import ImageGarbageCollector
from kubelite.agent.images.registry import RegistryClient
from kubelite.agent.images.store import ImageStore
from kubelite.agent.network import nsrecord
from kubelite.agent.network.cni import CniNetwork
from kubelite.agent.network.routes import NodeRoutes
from kubelite.agent.node import NODES, NodeStatusReporter
from kubelite.agent.pods.probes import ProbeKey, Prober, ProbeResult
from kubelite.agent.pods.sync import PodSyncer
from kubelite.agent.pods.types import PodOptions
from kubelite.agent.pods.wiring import real_helpers
from kubelite.agent.pods.workers import PodWorkers
from kubelite.agent.runtime.logrotate import LogRotator
from kubelite.agent.runtime.oci import OciRuntime
from kubelite.agent.server.app import AgentServer
from kubelite.agent.volumes.localpath import LocalPathCleaner
from kubelite.agent.volumes.manager import Volumes
from kubelite.client.events import EventRecorder
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.util import memory

log = logging.getLogger(__name__)

POD_CIDR_TIMEOUT = 60.0


class AgentStartError(Exception):
    """The node cannot run pods; the message says why."""


def runtime_version(binary: str) -> str:
    """`crun://1.8.1`, as the Node's containerRuntimeVersion reports a runtime."""
    try:
        first = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise AgentStartError(f"OCI runtime {binary!r} cannot run: {error}") from error
    words = first.splitlines()[0].split() if first else []
    return f"{binary}://{words[-1] if words else 'unknown'}"


@contextmanager
def _prober_for(workers: list[PodWorkers], runtime: OciRuntime) -> Iterator[Prober]:
    """The prober reports to the pod loop, which needs the prober to be built: a late-bound callback."""

    def on_result(key: ProbeKey, result: ProbeResult) -> None:
        workers[0].probe_result(key, result)

    yield Prober(runtime, on_result=on_result)


async def serve(config: AgentConfig, client: RestClient, informers: InformerFactory) -> None:
    """Run the node with the caller's client and informer factory (which the caller runs)."""
    paths = config.paths
    for action in await prepare_host():
        log.info("host: %s", action)
    nsrecord.record(paths.root, config.node_netns)  # where uninstall must remove the node's network
    version = await asyncio.to_thread(runtime_version, config.runtime)
    async with RegistryClient(insecure_registries=config.insecure_registries) as registry:
        images = ImageStore(paths.images, registry=registry)
        busybox = await ensure_builtin_busybox(images)
        log.info("built-in image %s ready", busybox.reference)
        importer = ArchiveImporter(images, paths.images)
        await importer.scan()
        runtime = OciRuntime(paths, images, binary=config.runtime)

        async def images_in_use() -> set[str]:
            return {state.image_ref for state in await runtime.list()}

        image_gc = ImageGarbageCollector(images, images_in_use, keep=frozenset({busybox.reference}))

        reporter = NodeStatusReporter(
            client,
            node_name=config.node_name,
            node_ip=config.node_ip,
            data_dir=paths.root,
            kubelet_port=config.kubelet_port,
            runtime_version=version,
            labels=config.labels,
            taints=config.taints,
            images=images,
        )
        server = AgentServer(
            paths,
            runtime,
            network := await _network(reporter, config),
            ca_pem=_client_ca(config),
            bind=config.bind_address,
            port=config.kubelet_port,
            names=(config.node_name, config.node_ip),
        )
        await server.start()
        try:
            recorder = EventRecorder(client, component="kubelet", host=config.node_name)
            volumes = Volumes(paths, client)
            routes = NodeRoutes(
                informers.informer(NODES), node_name=config.node_name, node_netns=config.node_netns
            )
            late: list[PodWorkers] = []
            with _prober_for(late, runtime) as prober:
                late.append(
                    PodWorkers(
                        informers,
                        PodSyncer(
                            client,
                            paths=paths,
                            runtime=runtime,
                            network=network,
                            volumes=volumes,
                            images=images,
                            prober=prober,
                            recorder=recorder,
                            options=PodOptions(
                                node_ip=config.node_ip,
                                runtime_name=config.runtime,
                                strict_pulls=config.strict_image_pulls,
                            ),
                            helpers=real_helpers(
                                client,
                                runtime,
                                paths,
                                cluster_dns=config.cluster_dns,
                                cluster_domain=config.cluster_domain,
                            ),
                        ),
                        node_name=config.node_name,
                    )
                )
                log.info("node %s is running pods (%s)", config.node_name, version)
                try:
                    async with asyncio.TaskGroup() as group:
                        group.create_task(recorder.run(), name="agent events")
                        group.create_task(late[0].run(), name="pod workers")
                        group.create_task(reporter.run(), name="node status")
                        group.create_task(importer.run(), name="image archive import")
                        group.create_task(image_gc.run(), name="image garbage collection")
                        group.create_task(memory.trim_every(30.0), name="memory trim")
                        group.create_task(LogRotator(runtime, paths).run(), name="container log rotation")
                        group.create_task(routes.run(), name="routes to other nodes' pods")
                        group.create_task(LocalPathCleaner(client, informers, paths).run(), name="local-path")
                finally:
                    await prober.close()
        finally:
            await server.stop()


async def _network(reporter: NodeStatusReporter, config: AgentConfig) -> CniNetwork:
    await reporter.register()
    pod_cidr = await reporter.wait_for_pod_cidr(POD_CIDR_TIMEOUT)
    if pod_cidr is None:
        raise AgentStartError(
            f"node {config.node_name} got no spec.podCIDR within {POD_CIDR_TIMEOUT:.0f}s "
            "(is the controller manager running with a --cluster-cidr?)"
        )
    log.info("node %s: pod CIDR %s", config.node_name, pod_cidr)
    network = CniNetwork(config.paths, pod_cidr=pod_cidr, node_netns=config.node_netns)
    await network.prepare()
    return network


def _client_ca(config: AgentConfig) -> bytes:
    """Only clients with certificates from the cluster CA (the API server) may use the agent's port."""
    ca = config.client_config.ca_data
    if not ca:
        raise AgentStartError("the agent needs the cluster CA: --certificate-authority or a kubeconfig")
    return ca
