"""configMap, secret, downwardAPI and projected volumes against a real API server, with real tmpfs mounts."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import jwt
import pytest

from kubelite.agent.volumes import atomic, sysmount
from kubelite.agent.volumes.manager import Volumes
from kubelite.agent.volumes.types import VolumeError
from kubelite.client import paths
from kubelite.client.rest import RestClient
from tests.integration.agent.volumes.conftest import CONFIGMAPS, SECRETS, make_pod

PODS = paths.resource("", "v1", "pods")
SERVICEACCOUNTS = paths.resource("", "v1", "serviceaccounts")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def mounted(path: Path) -> str | None:
    """The filesystem type mounted exactly at `path`, from /proc/self/mountinfo."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" ")
        if fields[4] == str(path):
            return fields[fields.index("-") + 1]
    return None


async def test_configmap_volume_is_updated_in_place(
    volumes: Volumes, client: RestClient, namespace: str
) -> None:
    await client.create(
        CONFIGMAPS, {"metadata": {"name": "app"}, "data": {"a.conf": "one", "b": "bee"}}, namespace=namespace
    )
    pod = make_pod(namespace, {"name": "cfg", "configMap": {"name": "app", "defaultMode": 0o644}})
    await volumes.setup(pod)
    path = volumes.volume_path(pod["metadata"]["uid"], "configMap", "cfg")
    assert stat.S_IMODE(path.stat().st_mode) == 0o777
    assert (path / "a.conf").read_text() == "one"
    assert os.readlink(path / "a.conf") == "..data/a.conf"
    first = os.readlink(path / atomic.DATA_DIR)
    assert first.startswith("..") and (path / first).is_dir()
    assert stat.S_IMODE((path / first / "a.conf").stat().st_mode) == 0o644

    await volumes.refresh(pod)  # unchanged: nothing rewritten
    assert os.readlink(path / atomic.DATA_DIR) == first

    await client.update(
        CONFIGMAPS, {"metadata": {"name": "app"}, "data": {"a.conf": "two"}}, namespace=namespace
    )
    await volumes.refresh(pod)
    second = os.readlink(path / atomic.DATA_DIR)
    assert second != first and not (path / first).exists()
    assert (path / "a.conf").read_text() == "two"
    assert "b" not in os.listdir(path)  # a removed key disappears
    assert sorted(os.listdir(path)) == sorted([atomic.DATA_DIR, second, "a.conf"])


async def test_items_modes_and_binary_data(volumes: Volumes, client: RestClient, namespace: str) -> None:
    body = {
        "metadata": {"name": "items"},
        "data": {"k": "v", "other": "x"},
        "binaryData": {"bin": b64("\x00\x01")},
    }
    await client.create(CONFIGMAPS, body, namespace=namespace)
    source = {
        "name": "items",
        "defaultMode": 0o600,
        "items": [{"key": "k", "path": "sub/dir/key.txt", "mode": 0o400}, {"key": "bin", "path": "bin"}],
    }
    pod = make_pod(namespace, {"name": "cfg", "configMap": source})
    await volumes.setup(pod)
    path = volumes.volume_path(pod["metadata"]["uid"], "configMap", "cfg")
    assert sorted(os.listdir(path / atomic.DATA_DIR)) == ["bin", "sub"]
    assert (path / "sub/dir/key.txt").read_text() == "v"
    assert stat.S_IMODE((path / "sub/dir/key.txt").stat().st_mode) == 0o400
    assert (path / "bin").read_bytes() == b"\x00\x01"
    assert stat.S_IMODE((path / "bin").stat().st_mode) == 0o600
    assert os.readlink(path / "sub") == "..data/sub"


async def test_missing_configmaps(volumes: Volumes, client: RestClient, namespace: str) -> None:
    optional = make_pod(namespace, {"name": "opt", "configMap": {"name": "absent", "optional": True}})
    await volumes.setup(optional)
    path = volumes.volume_path(optional["metadata"]["uid"], "configMap", "opt")
    assert os.listdir(path) and not os.listdir(path / atomic.DATA_DIR)

    required = make_pod(namespace, {"name": "cfg", "configMap": {"name": "absent"}})
    with pytest.raises(VolumeError) as failed:
        await volumes.setup(required)
    assert str(failed.value) == 'MountVolume.SetUp failed for volume "cfg" : configmap "absent" not found'
    assert failed.value.reason == "FailedMount"
    assert not volumes.volume_path(required["metadata"]["uid"], "configMap", "cfg").exists()

    await client.create(
        CONFIGMAPS, {"metadata": {"name": "partial"}, "data": {"a": "1"}}, namespace=namespace
    )
    missing_key = make_pod(
        namespace, {"name": "cfg", "configMap": {"name": "partial", "items": [{"key": "b", "path": "b"}]}}
    )
    with pytest.raises(VolumeError, match=r"configmap references non-existent config key: b$"):
        await volumes.setup(missing_key)


async def test_secret_volume_is_a_tmpfs_gone_after_teardown(
    volumes: Volumes, client: RestClient, namespace: str
) -> None:
    await client.create(
        SECRETS, {"metadata": {"name": "creds"}, "data": {"password": b64("hunter2")}}, namespace=namespace
    )
    pod = make_pod(namespace, {"name": "sec", "secret": {"secretName": "creds", "defaultMode": 0o400}})
    uid = pod["metadata"]["uid"]
    await volumes.setup(pod)
    await volumes.setup(pod)  # idempotent: still one mount
    path = volumes.volume_path(uid, "secret", "sec")
    assert mounted(path) == "tmpfs"
    assert sysmount.mount_points_under(volumes.paths.pod(uid)) == [str(path)]
    assert (path / "password").read_bytes() == b"hunter2"
    assert stat.S_IMODE((path / "password").stat().st_mode) == 0o400
    assert volumes.pods_on_disk() == [uid]

    [mount] = volumes.container_mounts(
        pod, {"name": "app", "volumeMounts": [{"name": "sec", "mountPath": "/s"}]}
    )
    assert mount.source == str(path)
    assert mount.options == ("rbind", "ro", "nosuid", "nodev", "noexec")

    await volumes.teardown(uid)
    assert mounted(path) is None and not (volumes.paths.pod(uid) / "volumes").exists()
    await volumes.teardown(uid)  # idempotent
    assert volumes.pods_on_disk() == []

    with pytest.raises(VolumeError, match=r'volume "sec" : secret "nope" not found$'):
        await volumes.setup(make_pod(namespace, {"name": "sec", "secret": {"secretName": "nope"}}))


async def test_downward_api_volume(volumes: Volumes, namespace: str) -> None:
    items = [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}, "mode": 0o600},
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
        {"path": "tier", "fieldRef": {"fieldPath": "metadata.labels['tier']"}},
        {
            "path": "cpu_limit",
            "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"},
        },
        {
            "path": "mem_limit",
            "resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"},
        },
    ]
    pod = make_pod(
        namespace,
        {"name": "info", "downwardAPI": {"items": items, "defaultMode": 0o644}},
        labels={"tier": "web", "app": "x"},
        annotations={"note": 'say "hi"\nbye'},
        container={"resources": {"limits": {"cpu": "250m"}}},
    )
    await volumes.setup(pod)
    path = volumes.volume_path(pod["metadata"]["uid"], "downwardAPI", "info")
    assert mounted(path) == "tmpfs"
    assert (path / "labels").read_text() == 'app="x"\ntier="web"'
    assert (path / "annotations").read_text() == 'note="say \\"hi\\"\\nbye"'
    assert stat.S_IMODE((path / "annotations").stat().st_mode) == 0o600
    assert (path / "name").read_text() == pod["metadata"]["name"]
    assert (path / "tier").read_text() == "web"
    assert (path / "cpu_limit").read_text() == "250"
    assert (path / "mem_limit").read_text() == "4096"  # no limit: the node's allocatable

    pod["metadata"]["labels"]["tier"] = "db"
    await volumes.refresh(pod)
    assert (path / "tier").read_text() == "db"

    bad = make_pod(
        namespace,
        {
            "name": "info",
            "downwardAPI": {"items": [{"path": "ip", "fieldRef": {"fieldPath": "status.podIP"}}]},
        },
    )
    with pytest.raises(VolumeError, match=r"unsupported fieldPath: status\.podIP$"):
        await volumes.setup(bad)


async def test_the_injected_service_account_volume_gets_a_bound_token(
    volumes: Volumes, client: RestClient, namespace: str
) -> None:
    """The volume ServiceAccount admission injects: a TokenRequest token bound to the pod, the cluster CA and
    the namespace, on tmpfs."""
    await client.create(
        CONFIGMAPS, {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": "PEM"}}, namespace=namespace
    )
    await client.create(SERVICEACCOUNTS, {"metadata": {"name": "robot"}}, namespace=namespace)
    template = make_pod(namespace, serviceAccountName="robot")
    del template["metadata"]["uid"]
    pod = await client.create(PODS, template, namespace=namespace)
    volume = next(v["name"] for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-"))

    await volumes.setup(pod)
    path = volumes.volume_path(pod["metadata"]["uid"], "projected", volume)
    assert mounted(path) == "tmpfs"
    claims = jwt.decode((path / "token").read_text(), options={"verify_signature": False})
    assert claims["sub"] == f"system:serviceaccount:{namespace}:robot"
    assert claims["kubernetes.io"]["pod"] == {"name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
    assert (path / "ca.crt").read_text() == "PEM"
    assert (path / "namespace").read_text() == namespace
    [mount] = volumes.container_mounts(pod, pod["spec"]["containers"][0])
    assert mount.destination == "/var/run/secrets/kubernetes.io/serviceaccount"
    assert mount.options == ("rbind", "ro")


async def test_fs_group_owns_volumes(volumes: Volumes, client: RestClient, namespace: str) -> None:
    await client.create(CONFIGMAPS, {"metadata": {"name": "app"}, "data": {"k": "v"}}, namespace=namespace)
    pod = make_pod(
        namespace,
        {"name": "cfg", "configMap": {"name": "app", "defaultMode": 0o400}},
        {"name": "scratch", "emptyDir": {}},
        securityContext={"fsGroup": 4321},
    )
    uid = pod["metadata"]["uid"]
    await volumes.setup(pod)
    key = (volumes.volume_path(uid, "configMap", "cfg") / "k").stat()
    assert (stat.S_IMODE(key.st_mode), key.st_gid) == (0o440, 4321)  # the group can read it
    scratch = volumes.volume_path(uid, "emptyDir", "scratch").stat()
    assert (stat.S_IMODE(scratch.st_mode), scratch.st_gid) == (0o2777, 4321)
    await volumes.refresh(pod)  # the owned payload counts as unchanged
    assert (volumes.volume_path(uid, "configMap", "cfg") / "k").stat().st_ino == key.st_ino
