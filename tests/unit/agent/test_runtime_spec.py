"""config.json from a ContainerSpec: containerd's capabilities, mounts, namespaces, cgroups, annotations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.images.store import ImageRecord
from kubelite.agent.runtime import spec as oci_spec
from kubelite.agent.runtime.types import ContainerSpec, Mount, Resources, Security

IMAGE = ImageRecord(
    reference="docker.io/library/busybox:latest",
    manifest_digest="sha256:m",
    config_digest="sha256:c",
    layer_digests=("sha256:l",),
    size=1,
)


def make(security: Security | None = None, **fields: Any) -> ContainerSpec:
    values: dict[str, Any] = dict(
        container_id="uid1_app_2",
        pod_uid="uid1",
        pod_namespace="ns",
        pod_name="web",
        name="app",
        attempt=2,
        image=IMAGE,
        argv=("sh", "-c", "true"),
        env=("PATH=/bin", "A=1"),
        working_dir="",
        mounts=(),
        netns_path="/run/netns/pod",
        hostname="web",
        log_path=Path("/l/0.log"),
        cgroup_parent="/kubelite/n1/poduid1",
        security=security or Security(),
    )
    values.update(fields)
    return ContainerSpec(**values)


def config(spec: ContainerSpec, uid: int = 0, gid: int = 0) -> dict[str, Any]:
    return oci_spec.build_config(spec, rootfs="/bundle/rootfs", uid=uid, gid=gid)


def test_default_process_and_root() -> None:
    built = config(make())
    process = built["process"]
    assert process["args"] == ["sh", "-c", "true"] and process["env"] == ["PATH=/bin", "A=1"]
    assert (process["cwd"], process["terminal"], process["noNewPrivileges"]) == ("/", False, False)
    assert process["user"] == {"uid": 0, "gid": 0, "additionalGids": [0]}
    assert process["capabilities"]["bounding"] == list(oci_spec.DEFAULT_CAPABILITIES)
    assert process["capabilities"]["effective"] == process["capabilities"]["permitted"]
    assert "inheritable" not in process["capabilities"] and "ambient" not in process["capabilities"]
    assert built["root"] == {"path": "/bundle/rootfs", "readonly": False}
    assert built["hostname"] == "web"
    assert "apparmorProfile" not in process and "seccomp" not in built["linux"]


@pytest.mark.parametrize(
    ("add", "drop", "expected"),
    [
        ((), ("ALL",), []),
        (("NET_ADMIN",), ("ALL",), ["CAP_NET_ADMIN"]),
        (("ALL",), ("CHOWN",), [c for c in oci_spec.ALL_CAPABILITIES if c != "CAP_CHOWN"]),
        (("ALL",), ("ALL",), []),
        (
            ("sys_time", "CAP_NET_ADMIN"),
            ("KILL", "NET_RAW"),
            [c for c in oci_spec.DEFAULT_CAPABILITIES if c not in ("CAP_KILL", "CAP_NET_RAW")]
            + ["CAP_SYS_TIME", "CAP_NET_ADMIN"],
        ),
    ],
)
def test_capabilities_follow_containerd(
    add: tuple[str, ...], drop: tuple[str, ...], expected: list[str]
) -> None:
    security = Security(add_capabilities=add, drop_capabilities=drop)
    assert config(make(security))["process"]["capabilities"]["bounding"] == expected


def test_user_groups_privilege_escalation_and_readonly_root() -> None:
    security = Security(
        supplemental_groups=(2000, 100), read_only_root=True, allow_privilege_escalation=False
    )
    built = config(make(security), uid=1000, gid=100)
    assert built["process"]["user"] == {"uid": 1000, "gid": 100, "additionalGids": [100, 2000]}
    assert built["process"]["noNewPrivileges"] is True
    assert built["root"]["readonly"] is True


def test_namespaces_and_host_network() -> None:
    namespaces = config(make())["linux"]["namespaces"]
    assert namespaces == [
        {"type": "pid"},
        {"type": "ipc"},
        {"type": "uts"},
        {"type": "mount"},
        {"type": "network", "path": "/run/netns/pod"},
    ]
    host = config(make(netns_path=None))["linux"]["namespaces"]
    assert all(ns["type"] != "network" for ns in host)


def test_mounts_standard_first_then_the_specs() -> None:
    volume = Mount(destination="/data", source="/var/lib/x", options=("rbind", "ro"))
    mounts = config(make(mounts=(volume,)))["mounts"]
    assert [m["destination"] for m in mounts] == [
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
        "/sys/fs/cgroup",
        "/data",
    ]
    assert mounts[-1] == {
        "destination": "/data",
        "type": "bind",
        "source": "/var/lib/x",
        "options": ["rbind", "ro"],
    }
    assert "ro" in mounts[5]["options"] and "ro" in mounts[6]["options"]
    assert mounts[1]["type"] == "tmpfs"


def test_cgroup_path_resources_and_masked_paths() -> None:
    resources = Resources(cpu_shares=512, cpu_quota=50_000, memory_limit=64 << 20, pids_limit=100)
    linux = config(make(resources=resources))["linux"]
    assert linux["cgroupsPath"] == "/kubelite/n1/poduid1/uid1_app_2"
    assert linux["resources"] == {
        "devices": [{"allow": False, "access": "rwm"}],
        "cpu": {"shares": 512, "quota": 50_000, "period": 100_000},
        "memory": {"limit": 64 << 20},
        "pids": {"limit": 100},
    }
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sys" in linux["readonlyPaths"]
    assert config(make())["linux"]["resources"] == {"devices": [{"allow": False, "access": "rwm"}]}


def test_privileged() -> None:
    built = config(
        make(Security(privileged=True, drop_capabilities=("ALL",), allow_privilege_escalation=False))
    )
    assert built["process"]["capabilities"]["bounding"] == list(oci_spec.ALL_CAPABILITIES)
    assert built["process"]["noNewPrivileges"] is False
    linux = built["linux"]
    assert "maskedPaths" not in linux and "readonlyPaths" not in linux
    assert linux["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    mounts = {m["destination"]: m for m in built["mounts"]}
    assert mounts["/dev"]["source"] == "/dev" and "ro" not in mounts["/sys"]["options"]


def test_annotations_identify_the_container() -> None:
    assert config(make(tty=True))["annotations"] == {
        oci_spec.POD_UID: "uid1",
        oci_spec.POD_NAMESPACE: "ns",
        oci_spec.POD_NAME: "web",
        oci_spec.CONTAINER_NAME: "app",
        oci_spec.ATTEMPT: "2",
        oci_spec.IMAGE_REF: "docker.io/library/busybox:latest",
        oci_spec.IMAGE_ID: "sha256:c",
    }
    assert config(make(tty=True, working_dir="/srv"))["process"]["cwd"] == "/srv"


def test_all_means_what_the_node_has() -> None:
    status = "Name:\tx\nCapBnd:\t000001fffeffffff\nCapAmb:\t0\n"
    available = oci_spec.host_capabilities(status)
    assert "CAP_SYS_RESOURCE" not in available and len(available) == len(oci_spec.ALL_CAPABILITIES) - 1
    privileged = oci_spec.build_config(
        make(Security(privileged=True)), rootfs="/r", uid=0, gid=0, available_capabilities=available
    )
    assert privileged["process"]["capabilities"]["bounding"] == list(available)
    assert oci_spec.capabilities(Security(add_capabilities=("ALL",)), available) == list(available)
