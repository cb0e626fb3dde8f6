"""A container's volumeMounts as OCI mounts: the volume's node path (or a subPath inside it), read-only rules.

configMap, secret, downwardAPI and projected volumes are always read-only, as upstream mounts them since
1.10; secrets add nosuid,nodev,noexec. A subPath is resolved to its real file or directory and must stay
inside the volume (a symlink out of it is refused); a missing one is made as a directory with the volume's
mode. Failures are ConfigError: the kubelet reports them as CreateContainerConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.agent.pods.environment import expand
from kubelite.agent.runtime.types import Mount
from kubelite.agent.volumes.types import ConfigError

JSON = dict[str, Any]

API_DATA_KINDS = ("configMap", "secret", "downwardAPI", "projected")
_SECRET_OPTIONS = ("nosuid", "nodev", "noexec")


@dataclass(frozen=True)
class Placed:
    """Where a pod volume is on the node."""

    path: str
    kind: str  # the volume source's field name: emptyDir, hostPath, configMap, persistentVolumeClaim, ...
    read_only: bool = False


def _sub_path(mount: JSON, env: Mapping[str, str]) -> str:
    if not mount.get("subPathExpr"):
        return str(mount.get("subPath") or "")
    missing: set[str] = set()

    def lookup(name: str) -> str:
        value = env.get(name, "")
        if not value:
            missing.add(name)
        return value

    expanded = expand(str(mount["subPathExpr"]), lookup)
    if missing:
        raise ConfigError(f"missing value for {', '.join(sorted(missing))}")
    return expanded


def _resolve_sub_path(volume_path: str, sub_path: str, where: str) -> str:
    """The real path of `sub_path` in the volume, made if missing; `where` names the mount for errors."""
    if os.path.isabs(sub_path):
        raise ConfigError(f"error SubPath `{sub_path}` must not be an absolute path")
    if ".." in sub_path.split("/"):
        raise ConfigError(f"unable to provision SubPath `{sub_path}`: must not contain '..'")
    base = os.path.realpath(volume_path)

    def inside(path: str) -> bool:
        real = os.path.realpath(path)
        return real == base or real.startswith(base + "/")

    # Missing parts are made with the volume's mode (whatever the umask), never through a symlink out of it.
    mode = os.stat(volume_path).st_mode & 0o7777
    current = volume_path
    for part in sub_path.split("/"):
        current = os.path.join(current, part)
        if not os.path.lexists(current):
            if not inside(os.path.dirname(current)):
                raise ConfigError(f"failed to create subPath directory for {where}")
            os.mkdir(current)
            os.chmod(current, mode)
    if not inside(current):
        raise ConfigError(f"failed to prepare subPath for {where}")
    return os.path.realpath(current)


def container_mounts(container: JSON, volumes: Mapping[str, Placed], env: Mapping[str, str]) -> list[Mount]:
    mounts = []
    for mount in container.get("volumeMounts") or []:
        name = str(mount.get("name", ""))
        placed = volumes.get(name)
        if placed is None:
            raise ConfigError(
                f'cannot find volume "{name}" to mount into container "{container.get("name")}"'
            )
        source = placed.path
        sub_path = _sub_path(mount, env)
        if sub_path:
            where = f'volumeMount "{name}" of container "{container.get("name")}"'
            source = _resolve_sub_path(source, sub_path, where)
        read_only = bool(mount.get("readOnly")) or placed.read_only or placed.kind in API_DATA_KINDS
        options = ["rbind" if os.path.isdir(source) else "bind", "ro" if read_only else "rw"]
        if placed.kind == "secret":
            options.extend(_SECRET_OPTIONS)
        mounts.append(Mount(destination=str(mount["mountPath"]), source=source, options=tuple(options)))
    return mounts
