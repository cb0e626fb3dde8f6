"""hostPath, emptyDir and PVC volumes, and the mounts a container gets from them."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.runtime.types import Mount
from kubelite.agent.volumes import sysmount
from kubelite.agent.volumes.manager import Volumes
from kubelite.agent.volumes.types import ConfigError, VolumeError
from kubelite.client import paths
from kubelite.client.rest import RestClient
from tests.integration.agent.volumes.conftest import CONFIGMAPS, make_pod

PVCS = paths.resource("", "v1", "persistentvolumeclaims")
PVS = paths.resource("", "v1", "persistentvolumes")


def host_path(path: Path | str, kind: str | None = None, name: str = "host") -> dict[str, Any]:
    source: dict[str, Any] = {"path": str(path)}
    if kind is not None:
        source["type"] = kind
    return {"name": name, "hostPath": source}


async def test_host_path_types(volumes: Volumes, namespace: str, tmp_path: Path) -> None:
    made_dir = tmp_path / "new" / "dir"
    await volumes.setup(make_pod(namespace, host_path(made_dir, "DirectoryOrCreate")))
    assert made_dir.is_dir() and stat.S_IMODE(made_dir.stat().st_mode) == 0o755

    made_file = tmp_path / "parents" / "file"
    await volumes.setup(make_pod(namespace, host_path(made_file, "FileOrCreate")))
    assert made_file.is_file() and stat.S_IMODE(made_file.stat().st_mode) == 0o644

    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(tmp_path / "sock"))
        await volumes.setup(make_pod(namespace, host_path(tmp_path / "sock", "Socket")))
    await volumes.setup(make_pod(namespace, host_path("/dev/null", "CharDevice")))
    await volumes.setup(make_pod(namespace, host_path(made_dir, "Directory")))
    await volumes.setup(make_pod(namespace, host_path(made_file, "File")))

    failures = [
        (made_file, "Directory", f"hostPath type check failed: {made_file} is not a directory"),
        (made_file, "DirectoryOrCreate", f"hostPath type check failed: {made_file} is not a directory"),
        (made_dir, "FileOrCreate", f"hostPath type check failed: {made_dir} is not a file"),
        (tmp_path / "absent", "File", f"hostPath type check failed: {tmp_path / 'absent'} is not a file"),
        (made_file, "Socket", f"hostPath type check failed: {made_file} is not a socket file"),
        (made_file, "CharDevice", f"hostPath type check failed: {made_file} is not a character device"),
        ("/dev/null", "BlockDevice", "hostPath type check failed: /dev/null is not a block device"),
    ]
    for path, kind, message in failures:
        with pytest.raises(VolumeError) as failed:
            await volumes.setup(make_pod(namespace, host_path(path, kind)))
        assert str(failed.value) == f'MountVolume.SetUp failed for volume "host" : {message}'

    pod = make_pod(namespace, host_path(made_dir), host_path(made_file, name="file"))
    await volumes.setup(pod)
    mounts = volumes.container_mounts(
        pod,
        {
            "name": "app",
            "volumeMounts": [
                {"name": "host", "mountPath": "/data", "readOnly": True},
                {"name": "file", "mountPath": "/etc/app.conf"},
            ],
        },
    )
    assert mounts == [
        Mount("/data", str(made_dir), options=("rbind", "ro")),
        Mount("/etc/app.conf", str(made_file), options=("bind", "rw")),
    ]


async def test_empty_dirs(volumes: Volumes, namespace: str) -> None:
    pod = make_pod(
        namespace,
        {"name": "scratch", "emptyDir": {}},
        {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
    )
    uid = pod["metadata"]["uid"]
    await volumes.setup(pod)
    scratch = volumes.volume_path(uid, "emptyDir", "scratch")
    ram = volumes.volume_path(uid, "emptyDir", "ram")
    assert stat.S_IMODE(scratch.stat().st_mode) == 0o777
    assert sysmount.mount_points_under(volumes.paths.pod(uid)) == [str(ram)]
    assert os.statvfs(ram).f_blocks * os.statvfs(ram).f_frsize == 16 * 1024 * 1024
    (scratch / "blob").write_bytes(b"x" * 8192)
    assert await volumes.disk_usage(uid, "scratch") >= 8192
    await volumes.teardown(uid)
    assert not (volumes.paths.pod(uid) / "volumes").exists()


async def bound_claim(client: RestClient, namespace: str, pv_source: dict[str, Any]) -> str:
    """A PVC bound to a fresh PV, as the PV controller would leave them."""
    claim = await client.create(
        PVCS,
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
        namespace=namespace,
    )
    pv_name = f"pv-{namespace}"
    claim_ref = {
        "kind": "PersistentVolumeClaim",
        "namespace": namespace,
        "name": "data",
        "uid": claim["metadata"]["uid"],
    }
    await client.create(
        PVS,
        {
            "metadata": {"name": pv_name},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "claimRef": claim_ref,
                **pv_source,
            },
        },
    )
    claim["spec"]["volumeName"] = pv_name
    claim = await client.update(PVCS, claim, namespace=namespace)
    claim["status"] = {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}
    await client.update(PVCS, claim, namespace=namespace, subresource="status")
    return pv_name


async def test_claims(volumes: Volumes, client: RestClient, namespace: str, tmp_path: Path) -> None:
    volume = {"name": "store", "persistentVolumeClaim": {"claimName": "data"}}
    pod = make_pod(namespace, volume)
    with pytest.raises(VolumeError, match=f"error processing PVC {namespace}/data: failed to fetch PVC"):
        await volumes.setup(pod)

    target = tmp_path / "pv" / "data"
    pv_name = await bound_claim(
        client, namespace, {"hostPath": {"path": str(target), "type": "DirectoryOrCreate"}}
    )
    await volumes.setup(pod)
    assert target.is_dir()
    mounts = volumes.container_mounts(
        pod, {"name": "app", "volumeMounts": [{"name": "store", "mountPath": "/d"}]}
    )
    assert mounts == [Mount("/d", str(target), options=("rbind", "rw"))]

    read_only = make_pod(
        namespace, {"name": "store", "persistentVolumeClaim": {"claimName": "data", "readOnly": True}}
    )
    await volumes.setup(read_only)
    [mount] = volumes.container_mounts(
        read_only, {"name": "app", "volumeMounts": [{"name": "store", "mountPath": "/d"}]}
    )
    assert mount.options == ("rbind", "ro")

    claim = await client.get(PVCS, "data", namespace=namespace)
    claim["status"] = {"phase": "Pending"}
    await client.update(PVCS, claim, namespace=namespace, subresource="status")
    with pytest.raises(VolumeError) as failed:
        await volumes.setup(make_pod(namespace, volume))
    assert str(failed.value) == f"error processing PVC {namespace}/data: PVC is not bound"
    await client.delete(PVS, pv_name)


async def test_sub_paths(volumes: Volumes, client: RestClient, namespace: str, tmp_path: Path) -> None:
    await client.create(
        CONFIGMAPS, {"metadata": {"name": "app"}, "data": {"app.conf": "v1"}}, namespace=namespace
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    pod = make_pod(
        namespace, {"name": "scratch", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "app"}}
    )
    uid = pod["metadata"]["uid"]
    await volumes.setup(pod)
    scratch = volumes.volume_path(uid, "emptyDir", "scratch")
    container = {
        "name": "app",
        "volumeMounts": [
            {"name": "scratch", "mountPath": "/logs", "subPathExpr": "logs/$(POD_NAME)"},
            {"name": "cfg", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
        ],
    }
    logs, conf = volumes.container_mounts(pod, container, {"POD_NAME": "web-0"})
    assert logs == Mount("/logs", str(scratch / "logs" / "web-0"), options=("rbind", "rw"))
    assert stat.S_IMODE((scratch / "logs" / "web-0").stat().st_mode) == 0o777
    # The resolved file inside the current ..data: later updates do not reach this mount, as upstream.
    cfg = volumes.volume_path(uid, "configMap", "cfg")
    assert conf.source == str((cfg / "app.conf").resolve()) and conf.source != str(cfg / "app.conf")
    assert conf.options == ("bind", "ro") and (cfg / "app.conf").read_text() == "v1"

    with pytest.raises(ConfigError, match="missing value for POD_NAME"):
        volumes.container_mounts(pod, container, {})
    (scratch / "escape").symlink_to(outside)
    escapes = (
        ("escape", 'failed to prepare subPath for volumeMount "scratch" of container "app"'),
        ("escape/new", 'failed to create subPath directory for volumeMount "scratch" of container "app"'),
        ("../x", "unable to provision SubPath `../x`: must not contain '..'"),
    )
    for sub_path, message in escapes:
        escaping = {
            "name": "app",
            "volumeMounts": [{"name": "scratch", "mountPath": "/x", "subPath": sub_path}],
        }
        with pytest.raises(ConfigError) as failed:
            volumes.container_mounts(pod, escaping)
        assert str(failed.value) == message
    assert not (outside / "new").exists()
    with pytest.raises(ConfigError, match='cannot find volume "nope" to mount into container "app"'):
        volumes.container_mounts(pod, {"name": "app", "volumeMounts": [{"name": "nope", "mountPath": "/n"}]})
