"""Make the host fit for running containers; idempotent, run once at agent start.

On a cgroup v1 "hybrid" host crun refuses to start while any controller sits on the cgroup2 hierarchy
(`cgroups in hybrid mode not supported, drop all controllers from cgroupv2`): each such controller is moved
to a v1 hierarchy of its own. The v1 controllers pods are limited with must be mounted too. Pure cgroup v2
hosts need nothing.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from kubelite.agent.runtime import cgroups

# The controllers a pod's limits and accounting use on a v1 host.
REQUIRED_V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio")


def _enabled_controllers() -> set[str]:
    enabled: set[str] = set()
    for line in Path("/proc/cgroups").read_text().splitlines():
        if not line.startswith("#"):
            name, _hierarchy, _count, on = line.split()
            if on == "1":
                enabled.add(name)
    return enabled


def _mount_v1(controller: str) -> None:
    target = cgroups.CGROUP_ROOT / controller
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "cgroup", "-o", controller, "cgroup", str(target)],
                   check=True, capture_output=True, text=True)


def prepare_host_sync() -> list[str]:
    """What was changed, one line each (empty when the host was ready)."""
    found = cgroups.mounts()
    mode = cgroups.mode(found)
    if mode is cgroups.CgroupMode.V2:
        return []
    done: list[str] = []
    wanted: list[str] = [c for c in REQUIRED_V1_CONTROLLERS
                         if c in _enabled_controllers() and cgroups.hierarchy_of(c, found) is None]
    if mode is cgroups.CgroupMode.HYBRID:
        unified = next(m.path for m in found if m.version == 2)
        on_v2 = (unified / "cgroup.controllers").read_text().split()
        wanted += [c for c in on_v2 if c not in wanted]
    for controller in wanted:
        try:
            _mount_v1(controller)
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"cannot mount the {controller} cgroup v1 hierarchy: "
                               f"{error.stderr.strip()}") from error
        done.append(f"mounted cgroup v1 controller {controller} at {cgroups.CGROUP_ROOT / controller}")
    return done


async def prepare_host() -> list[str]:
    return await asyncio.to_thread(prepare_host_sync)
