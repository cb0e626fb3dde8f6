"""A real OciRuntime (crun or runc, under conmon) in a temp node directory, with the built-in busybox image.

Every container a test leaves behind is force-removed afterwards (processes, rootfs mount, bundle, cgroups),
and the node's cgroup tree is rmdir'd, even when the test failed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from kubelite.agent.hostprep import prepare_host_sync
from kubelite.agent.images.builtin import ensure_builtin_busybox
from kubelite.agent.images.store import ImageRecord, ImageStore
from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime import cgroups
from kubelite.agent.runtime.oci import OciRuntime
from kubelite.agent.runtime.types import ContainerSpec, container_id

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture(scope="session")
def prepared_host() -> None:
    prepare_host_sync()


@pytest.fixture
def node_paths(tmp_path: Path) -> NodePaths:
    return NodePaths(root=tmp_path / "agent", node_name=f"rt-{uuid.uuid4().hex[:8]}")


@pytest.fixture
async def busybox(node_paths: NodePaths) -> ImageRecord:
    return await ensure_builtin_busybox(ImageStore(node_paths.images))


async def _clean(paths: NodePaths, runtime: OciRuntime) -> None:
    """Remove every bundle (listed or not: a failed create may lack config.json), then the node's cgroups;
    one failure does not stop the rest."""
    failures: list[BaseException] = []
    for entry in sorted(paths.containers.iterdir()) if paths.containers.is_dir() else []:
        try:
            await runtime.remove(entry.name)
        except Exception as error:  # reported once the others are cleaned
            failures.append(error)
    cgroups.remove(paths.cgroup_root)
    if failures:
        raise failures[0]


@pytest.fixture
async def runtimes(prepared_host: None, node_paths: NodePaths) -> AsyncIterator[Callable[[str], OciRuntime]]:
    """OciRuntime instances on the same node directory ("crun", "runc"), all cleaned up afterwards."""
    made: list[OciRuntime] = []

    def make(binary: str) -> OciRuntime:
        made.append(OciRuntime(node_paths, ImageStore(node_paths.images), binary=binary))
        return made[-1]

    try:
        yield make
    finally:
        for oci in made:
            await _clean(node_paths, oci)


@pytest.fixture
def runtime(runtimes: Callable[[str], OciRuntime]) -> OciRuntime:
    return runtimes("crun")


@pytest.fixture(params=["crun", "runc"])
def each_runtime(request: pytest.FixtureRequest, runtimes: Callable[[str], OciRuntime]) -> OciRuntime:
    """The test runs once with crun and once with runc."""
    return runtimes(request.param)


SpecFactory = Callable[..., ContainerSpec]


@pytest.fixture
def make_spec(node_paths: NodePaths, busybox: ImageRecord) -> SpecFactory:
    """A busybox ContainerSpec running `argv` in a fresh pod; keyword arguments override fields."""

    def build(*argv: str, **overrides: object) -> ContainerSpec:
        pod_uid = str(uuid.uuid4())
        name = str(overrides.pop("name", "main"))
        spec = ContainerSpec(
            container_id=container_id(pod_uid, name, 0), pod_uid=pod_uid, pod_namespace="default",
            pod_name="p", name=name, attempt=0, image=busybox, argv=argv, env=(PATH_ENV,), working_dir="/",
            mounts=(), netns_path=None, hostname="p",
            log_path=node_paths.container_log("default", "p", pod_uid, name, 0),
            cgroup_parent=node_paths.pod_cgroup(pod_uid))
        return replace(spec, **overrides)  # type: ignore[arg-type]

    return build
