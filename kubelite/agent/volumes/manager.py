"""The node's pod volumes: made ready before a pod's containers start, kept current, removed with the pod.

Each volume that needs node storage lives at `<pod dir>/volumes/<kind>/<name>` with upstream's plugin
directory names (kubernetes.io~configmap, ...). secret, projected and downwardAPI volumes, and emptyDirs of
medium Memory, are tmpfs mounts on the node, so secrets never reach a disk; configMaps and plain emptyDirs
are directories. API data is written with the atomic writer, so updates appear in place all at once.
hostPath and PVC volumes are paths on the node itself, checked (or made) as their type says. setup() errors
read as the kubelet's FailedMount events (`MountVolume.SetUp failed for volume "cfg" : ...`); teardown()
unmounts and removes `<pod dir>/volumes` only, leaving the pod loop's own files in the pod dir to it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime.types import Mount
from kubelite.agent.volumes import atomic, claims, container, hostpath, sysmount
from kubelite.agent.volumes.container import API_DATA_KINDS, Placed
from kubelite.agent.volumes.projection import Projector
from kubelite.agent.volumes.sources import ObjectSource
from kubelite.agent.volumes.types import VolumeError
from kubelite.api import quantity
from kubelite.client.rest import RestClient

JSON = dict[str, Any]

_PLUGIN_DIRS = {
    "emptyDir": "kubernetes.io~empty-dir",
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}
_ON_TMPFS = ("secret", "projected", "downwardAPI")
_CLAIM_KINDS = ("persistentVolumeClaim", "ephemeral")
_KINDS = (*_PLUGIN_DIRS, "hostPath", *_CLAIM_KINDS)


def volume_kind(volume: JSON) -> str | None:
    return next((kind for kind in _KINDS if kind in volume), None)


def _uid(pod: JSON) -> str:
    return str(pod["metadata"]["uid"])


def _failed(name: str, exc: Exception) -> VolumeError:
    return VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {exc}')


def _make_dir(path: Path, *, tmpfs: bool, size: int | None = None, flags: int = 0) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.path.ismount(path):
        return  # set up before (maybe by an earlier run of the agent)
    os.chmod(path, 0o777)  # as the kubelet's emptyDir: any container user may write
    if tmpfs:
        sysmount.mount_tmpfs(path, flags=flags, size=size)


def _usage(path: Path) -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for entry in (*dirnames, *filenames):
            try:
                total += os.lstat(os.path.join(dirpath, entry)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


class Volumes:
    """kubelite's VolumeManager. `allocatable` (node allocatable, quantity strings) sizes memory-backed
    emptyDirs and stands in for unset limits in downward API values; `cache_ttl` bounds how stale a
    ConfigMap or Secret read for a refresh may be."""

    def __init__(
        self,
        paths: NodePaths,
        client: RestClient,
        *,
        allocatable: Mapping[str, str] | None = None,
        cache_ttl: float = 5.0,
    ) -> None:
        self.paths = paths
        self.client = client
        self.objects = ObjectSource(client, ttl=cache_ttl)  # also what build_env should read through
        self.allocatable = dict(allocatable or {})
        self._projector = Projector(self.objects, allocatable=self.allocatable)
        self._claimed: dict[str, dict[str, Placed]] = {}  # pod uid -> volume -> its PV's node path
        self._locks: dict[str, asyncio.Lock] = {}

    def volume_path(self, pod_uid: str, kind: str, name: str) -> Path:
        return self.paths.pod(pod_uid) / "volumes" / _PLUGIN_DIRS[kind] / name

    def _lock(self, pod_uid: str) -> asyncio.Lock:
        return self._locks.setdefault(pod_uid, asyncio.Lock())

    async def setup(self, pod: JSON) -> None:
        uid = _uid(pod)
        async with self._lock(uid):
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                await self._setup_one(pod, volume)

    async def _setup_one(self, pod: JSON, volume: JSON) -> None:
        uid, name, kind = _uid(pod), str(volume["name"]), volume_kind(volume)
        if kind in _CLAIM_KINDS:
            claimed = await claims.resolve(self.client, pod, volume)
            self._claimed.setdefault(uid, {})[name] = Placed(claimed.path, str(kind), claimed.read_only)
            return
        try:
            if kind == "hostPath":
                source = volume["hostPath"]
                await asyncio.to_thread(hostpath.check, str(source["path"]), source.get("type"))
            elif kind == "emptyDir":
                await self._empty_dir(pod, name, volume["emptyDir"] or {})
            elif kind in API_DATA_KINDS:
                await self._write_api_data(pod, volume, kind)
            else:
                raise VolumeError(
                    f"volume type {sorted(set(volume) - {'name'})} is not supported on this node"
                )
        except (VolumeError, hostpath.HostPathError, OSError) as exc:
            raise _failed(name, exc) from exc

    async def _empty_dir(self, pod: JSON, name: str, source: JSON) -> None:
        path = self.volume_path(_uid(pod), "emptyDir", name)
        medium = source.get("medium") or ""
        if medium not in ("", "Memory"):
            raise VolumeError(f"emptyDir medium {medium} is not supported on this node")
        size = None
        if medium == "Memory":
            limit = source.get("sizeLimit") or self.allocatable.get("memory")
            size = int(quantity.parse(limit).value) if limit else None
        await asyncio.to_thread(_make_dir, path, tmpfs=medium == "Memory", size=size, flags=sysmount.MS_NODEV)
        group = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")
        if group is not None:
            await asyncio.to_thread(os.chown, path, -1, int(group))
            await asyncio.to_thread(os.chmod, path, os.stat(path).st_mode & 0o7777 | 0o2070)

    async def _payload(self, pod: JSON, volume: JSON, kind: str) -> atomic.Payload:
        source = volume[kind] or {}
        if kind == "configMap":
            return await self._projector.configmap(pod, source)
        if kind == "secret":
            return await self._projector.secret(pod, source)
        if kind == "downwardAPI":
            return self._projector.downward_api(pod, source)
        return await self._projector.projected(pod, source)

    async def _write_api_data(self, pod: JSON, volume: JSON, kind: str) -> None:
        # Fetch first: a missing ConfigMap leaves nothing on disk.
        payload = await self._payload(pod, volume, kind)
        path = self.volume_path(_uid(pod), kind, str(volume["name"]))
        secret_flags = sysmount.MS_NOSUID | sysmount.MS_NODEV | sysmount.MS_NOEXEC
        await asyncio.to_thread(_make_dir, path, tmpfs=kind in _ON_TMPFS, flags=secret_flags)
        await asyncio.to_thread(atomic.write, path, payload)

    async def refresh(self, pod: JSON) -> None:
        uid = _uid(pod)
        failures: list[VolumeError] = []
        async with self._lock(uid):
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                kind = volume_kind(volume)
                if kind not in API_DATA_KINDS:
                    continue
                path = self.volume_path(uid, kind, str(volume["name"]))
                if not await asyncio.to_thread((path / atomic.DATA_DIR).is_symlink):
                    continue  # not set up yet: setup() writes it
                try:
                    payload = await self._payload(pod, volume, kind)
                    await asyncio.to_thread(atomic.write, path, payload)
                except (VolumeError, OSError) as exc:
                    failures.append(_failed(str(volume["name"]), exc))
        if failures:
            raise failures[0]

    def placed(self, pod: JSON) -> dict[str, Placed]:
        """Where each volume of the pod is on the node (after setup())."""
        uid = _uid(pod)
        found: dict[str, Placed] = {}
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            name, kind = str(volume["name"]), volume_kind(volume)
            if kind == "hostPath":
                found[name] = Placed(str(volume["hostPath"]["path"]), kind)
            elif kind in _PLUGIN_DIRS:
                found[name] = Placed(str(self.volume_path(uid, kind, name)), kind)
            elif name in self._claimed.get(uid, {}):
                found[name] = self._claimed[uid][name]
        return found

    def container_mounts(
        self, pod: JSON, container_spec: JSON, env: Mapping[str, str] | None = None
    ) -> list[Mount]:
        """The container's mounts; `env` (its final variables) expands subPathExpr. Raises ConfigError."""
        return container.container_mounts(container_spec, self.placed(pod), env or {})

    async def teardown(self, pod_uid: str) -> None:
        async with self._lock(pod_uid):
            await asyncio.to_thread(self._remove, self.paths.pod(pod_uid) / "volumes")
            self._claimed.pop(pod_uid, None)
            self._projector.forget(pod_uid)
        self._locks.pop(pod_uid, None)

    @staticmethod
    def _remove(volumes_dir: Path) -> None:
        # Only the volumes: the pod's other files (hosts, resolv.conf) are the pod loop's to remove.
        for point in reversed(sysmount.mount_points_under(volumes_dir)):
            sysmount.unmount(point)
        if left := sysmount.mount_points_under(volumes_dir):
            raise VolumeError(f"still mounted after unmounting: {left}")
        if volumes_dir.exists():
            shutil.rmtree(volumes_dir)

    def pods_on_disk(self) -> list[str]:
        if not self.paths.pods.is_dir():
            return []
        return sorted(entry.name for entry in self.paths.pods.iterdir() if (entry / "volumes").is_dir())

    async def disk_usage(self, pod_uid: str, volume: str) -> int:
        """Bytes an emptyDir holds (for the pod loop's sizeLimit eviction)."""
        return await asyncio.to_thread(_usage, self.volume_path(pod_uid, "emptyDir", volume))
