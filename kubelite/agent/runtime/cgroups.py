"""The node's cgroup layout: which version, where each v1 hierarchy is mounted, and cleaning up after pods.

The runtimes create a container's cgroup (absolute `linux.cgroupsPath`, the same relative path in every v1
hierarchy and, on hybrid hosts, in the cgroup2 mount) but never remove its parents: the agent rmdirs them.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_RMDIR_ATTEMPTS = 20
_NOT_CONTROLLERS = frozenset({"rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode",
                              "favordynmods"})


class CgroupMode(enum.StrEnum):
    V1 = "v1"  # only v1 hierarchies (legacy)
    HYBRID = "hybrid"  # v1 hierarchies plus a cgroup2 mount at /sys/fs/cgroup/unified
    V2 = "v2"  # /sys/fs/cgroup itself is cgroup2 (unified)


@dataclass(frozen=True)
class CgroupMount:
    path: Path
    controllers: tuple[str, ...]  # ("memory",), ("cpu", "cpuacct"), ("name=systemd",); () for cgroup2
    version: int


def mounts(mountinfo: str | None = None) -> list[CgroupMount]:
    """Every cgroup and cgroup2 mount, from /proc/self/mountinfo (or the given text)."""
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    found: list[CgroupMount] = []
    for line in mountinfo.splitlines():
        fields = line.split()
        separator = fields.index("-")
        fstype, super_options = fields[separator + 1], fields[separator + 3]
        if fstype == "cgroup2":
            found.append(CgroupMount(Path(fields[4]), (), 2))
        elif fstype == "cgroup":
            options = super_options.split(",")
            controllers = tuple(o for o in options if o.startswith("name=")
                                or ("=" not in o and o not in _NOT_CONTROLLERS))
            found.append(CgroupMount(Path(fields[4]), controllers, 1))
    return found


def mode(found: list[CgroupMount] | None = None) -> CgroupMode:
    found = mounts() if found is None else found
    if any(m.version == 2 and m.path == CGROUP_ROOT for m in found):
        return CgroupMode.V2
    if any(m.version == 2 for m in found):
        return CgroupMode.HYBRID
    return CgroupMode.V1


def v1_hierarchies(found: list[CgroupMount] | None = None) -> list[Path]:
    """Mount points of the v1 hierarchies (each once, even when mounted twice)."""
    found = mounts() if found is None else found
    seen: dict[tuple[str, ...], Path] = {}
    for mount in found:
        if mount.version == 1 and mount.controllers not in seen:
            seen[mount.controllers] = mount.path
    return list(seen.values())


def hierarchy_of(controller: str, found: list[CgroupMount] | None = None) -> Path | None:
    found = mounts() if found is None else found
    for mount in found:
        if mount.version == 1 and controller in mount.controllers:
            return mount.path
    return None


def _rmdir_tree(directory: Path) -> None:
    """rmdir a cgroup and its child cgroups, deepest first (cgroup dirs hold only pseudo-files).

    A cgroup whose processes were just killed can stay busy until they are reaped; what is still in it is
    killed and the rmdir retried for up to a second before EBUSY reaches the caller."""
    if not directory.is_dir():
        return
    for child in directory.iterdir():
        if child.is_dir():
            _rmdir_tree(child)
    for attempt in range(_RMDIR_ATTEMPTS):
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno != errno.EBUSY or attempt == _RMDIR_ATTEMPTS - 1:
                raise
            _kill_members(directory)
            time.sleep(0.05)


def _kill_members(directory: Path) -> None:
    with contextlib.suppress(OSError):
        for pid in (directory / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def remove(cgroup_path: str) -> None:
    """Remove an absolute cgroup path from every hierarchy; OSError (EBUSY) if processes remain.

    On a hybrid host the runtimes also place containers in the cgroup2 mount (/sys/fs/cgroup/unified).
    """
    relative = cgroup_path.lstrip("/")
    if not relative:
        raise ValueError("refusing to remove the root cgroup")
    for root in _roots(mounts()):
        _rmdir_tree(root / relative)


def _roots(found: list[CgroupMount]) -> list[Path]:
    """Where an absolute cgroup path exists: every v1 hierarchy and cgroup2 mount, or the v2 root alone."""
    if mode(found) is CgroupMode.V2:
        return [CGROUP_ROOT]
    return list(dict.fromkeys([*v1_hierarchies(found), *(m.path for m in found if m.version == 2)]))


def matching(pattern: str) -> list[str]:
    """Absolute cgroup paths matching a glob pattern (e.g. `/kubelite/*-1234abcd`) in any hierarchy."""
    relative = pattern.lstrip("/")
    found = {"/" + str(p.relative_to(root)) for root in _roots(mounts()) for p in root.glob(relative)
             if p.is_dir()}
    return sorted(found)


def remove_if_empty(cgroup_path: str) -> None:
    """rmdir a cgroup in every hierarchy where it has no child cgroups and no processes left."""
    relative = cgroup_path.lstrip("/")
    for root in _roots(mounts()):
        with contextlib.suppress(OSError):
            (root / relative).rmdir()


def oom_kills(cgroup_path: str) -> int:
    """How many processes the kernel OOM-killed in this cgroup (0 when unknown or gone)."""
    relative = cgroup_path.lstrip("/")
    found = mounts()
    if mode(found) is CgroupMode.V2:
        events, key = CGROUP_ROOT / relative / "memory.events", "oom_kill"
    else:
        hierarchy = hierarchy_of("memory", found)
        if hierarchy is None:
            return 0
        events, key = hierarchy / relative / "memory.oom_control", "oom_kill"
    try:
        text = events.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0
