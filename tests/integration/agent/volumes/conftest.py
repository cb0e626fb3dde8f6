"""One real API server per test module, a fresh namespace and volume manager per test.

Every mount a test makes lives under its own temp dir; the `volumes` fixture unmounts whatever is left there
even when the test fails.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.paths import NodePaths
from kubelite.agent.volumes import sysmount
from kubelite.agent.volumes.manager import Volumes
from kubelite.client import kubeconfig, paths
from kubelite.client.rest import RestClient
from tests.integration.apiserver.conftest import RunningServer, start_server, stop_server

NAMESPACES = paths.resource("", "v1", "namespaces")
CONFIGMAPS = paths.resource("", "v1", "configmaps")
SECRETS = paths.resource("", "v1", "secrets")
ALLOCATABLE = {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "10Gi"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("volumes-api") / "data")
    try:
        yield running
    finally:
        stop_server(running, thread)


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[RestClient]:
    async with RestClient(kubeconfig.load(server.kubeconfig)) as rest:
        yield rest


@pytest.fixture
async def namespace(client: RestClient) -> str:
    name = f"vol-{uuid.uuid4().hex[:8]}"
    await client.create(NAMESPACES, {"metadata": {"name": name}})
    return name


@pytest.fixture
async def volumes(tmp_path: Path, client: RestClient) -> AsyncIterator[Volumes]:
    root = tmp_path / "agent"
    manager = Volumes(
        NodePaths(root, f"node-{uuid.uuid4().hex[:6]}"), client, allocatable=ALLOCATABLE, cache_ttl=0
    )
    try:
        yield manager
    finally:
        for point in reversed(sysmount.mount_points_under(root)):
            sysmount.unmount(point)


def make_pod(namespace: str, *volumes: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A pod as the API server returns it (only what the volume manager reads)."""
    container = {"name": "app", "image": "busybox", **spec.pop("container", {})}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pod-{uuid.uuid4().hex[:6]}",
            "namespace": namespace,
            "uid": str(uuid.uuid4()),
            "labels": spec.pop("labels", {}),
            "annotations": spec.pop("annotations", {}),
        },
        "spec": {"containers": [container], "volumes": list(volumes), "nodeName": "n1", **spec},
    }
