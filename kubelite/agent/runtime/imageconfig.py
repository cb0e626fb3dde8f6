"""What an image asks for (ENTRYPOINT, CMD, Env, WorkingDir, User), and how Kubernetes merges it with a pod.

Kubernetes' rules: `command` replaces the ENTRYPOINT and drops the CMD; `args` alone replace the CMD;
the pod's env wins over the image's for the same name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from kubelite.agent.images.store import ImageRecord, ImageStore

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass  # not frozen: types.ImageConfig's members are plain (settable) attributes
class ImageConfigData:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""


def parse_image_config(blob: bytes) -> ImageConfigData:
    """The runtime part of an OCI/Docker image config blob."""
    config = orjson.loads(blob).get("config") or {}
    return ImageConfigData(
        entrypoint=tuple(config.get("Entrypoint") or ()),
        cmd=tuple(config.get("Cmd") or ()),
        env=tuple(config.get("Env") or ()),
        working_dir=config.get("WorkingDir") or "",
        user=config.get("User") or "",
    )


def load_image_config(store: ImageStore, record: ImageRecord) -> ImageConfigData:
    return parse_image_config(store.read_blob(record.config_digest))


def resolve_argv(image: ImageConfigData, command: Sequence[str], args: Sequence[str]) -> tuple[str, ...]:
    """The argv a container runs; empty when neither the pod nor the image names a program."""
    if command:
        return (*command, *args)
    return (*image.entrypoint, *(args if args else image.cmd))


def merge_env(image_env: Sequence[str], pod_env: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """"K=V" entries: the image's first, overridden in place by the pod's, the pod's new names after them.

    PATH defaults to containerd's when the image sets none.
    """
    merged: dict[str, str] = {"PATH": DEFAULT_PATH}
    for entry in image_env:
        name, _, value = entry.partition("=")
        merged[name] = value
    for name, value in pod_env:
        merged[name] = value
    return tuple(f"{name}={value}" for name, value in merged.items())


@dataclass(frozen=True)
class ResolvedUser:
    uid: int
    gid: int


def _lookup(path: Path, name: str, field: int) -> list[str] | None:
    """The colon-separated record of /etc/passwd or /etc/group whose name (or id at `field`) matches."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":")
        if len(parts) > field and (parts[0] == name or parts[field] == name):
            return parts
    return None


def resolve_user(user: str, rootfs: Path) -> ResolvedUser:
    """An image's User ("name", "uid", "uid:gid", "name:group") as numbers, from the rootfs's passwd files.

    ValueError when a name is not in the image (the kubelet's CreateContainerConfigError).
    """
    name, _, group = user.partition(":")
    if not name:
        return ResolvedUser(0, 0)
    entry = _lookup(rootfs / "etc/passwd", name, 2)
    if name.isdigit():
        uid = int(name)
        gid = int(entry[3]) if entry is not None and entry[2] == name else 0
    elif entry is None:
        raise ValueError(f"unable to find user {name}: no matching entries in passwd file")
    else:
        uid, gid = int(entry[2]), int(entry[3])
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            group_entry = _lookup(rootfs / "etc/group", group, 2)
            if group_entry is None:
                raise ValueError(f"unable to find group {group}: no matching entries in group file")
            gid = int(group_entry[2])
    return ResolvedUser(uid, gid)
