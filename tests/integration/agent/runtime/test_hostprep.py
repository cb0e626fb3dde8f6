"""Host preparation is idempotent and leaves crun a cgroup layout it accepts."""

from __future__ import annotations

from pathlib import Path

from kubelite.agent.hostprep import REQUIRED_V1_CONTROLLERS, prepare_host
from kubelite.agent.runtime import cgroups


async def test_prepare_host_twice(prepared_host: None) -> None:
    assert await prepare_host() == []
    found = cgroups.mounts()
    mode = cgroups.mode(found)
    if mode is cgroups.CgroupMode.V2:
        return
    for controller in REQUIRED_V1_CONTROLLERS:
        assert cgroups.hierarchy_of(controller, found) is not None, controller
    if mode is cgroups.CgroupMode.HYBRID:
        unified = next(m.path for m in found if m.version == 2)
        assert read(unified / "cgroup.controllers") == ""


def read(path: Path) -> str:
    return path.read_text().strip()
