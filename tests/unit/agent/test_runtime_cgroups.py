"""The cgroup layout read from mountinfo: v1, hybrid and v2 hosts."""

from __future__ import annotations

from pathlib import Path

from kubelite.agent.runtime import cgroups

HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids,clone_children
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
90 23 0:32 / /mnt/memory-again rw,relatime - cgroup cgroup rw,memory
"""
V2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"


def test_hybrid_layout() -> None:
    found = cgroups.mounts(HYBRID)
    assert cgroups.mode(found) is cgroups.CgroupMode.HYBRID
    assert [m.controllers for m in found if m.version == 1] == [
        ("cpu", "cpuacct"),
        ("memory",),
        ("pids",),
        ("name=systemd",),
        ("memory",),
    ]
    assert cgroups.v1_hierarchies(found) == [
        Path(f"/sys/fs/cgroup/{name}") for name in ("cpu,cpuacct", "memory", "pids", "systemd")
    ]
    assert cgroups.hierarchy_of("cpuacct", found) == Path("/sys/fs/cgroup/cpu,cpuacct")
    assert cgroups.hierarchy_of("hugetlb", found) is None


def test_pure_v1_and_v2() -> None:
    legacy = cgroups.mounts(HYBRID.replace("cgroup2 cgroup2", "tmpfs tmpfs"))
    assert cgroups.mode(legacy) is cgroups.CgroupMode.V1
    found = cgroups.mounts(V2)
    assert cgroups.mode(found) is cgroups.CgroupMode.V2 and cgroups.v1_hierarchies(found) == []


def test_this_host_is_readable() -> None:
    found = cgroups.mounts()
    assert cgroups.mode(found) in tuple(cgroups.CgroupMode)
    assert cgroups.oom_kills("/no/such/cgroup") == 0
