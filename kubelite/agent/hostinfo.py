"""What a node reports about its host: capacity, pressure signals and nodeInfo, read from /proc and /etc.

The parsers are pure (they take file text) so they can be tested with sample contents; `read_host` does the
file reads and is cheap enough to call every status round (a handful of small files and one statvfs).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

MEMORY_EVICTION = 100 * 1024 * 1024  # upstream's default hard eviction threshold: memory.available<100Mi
NODEFS_EVICTION = 0.10  # nodefs.available<10%
PID_EVICTION = 0.10  # no upstream default; pressure once fewer than a tenth of pid_max are left

_ARCHITECTURES = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo as bytes per field ("MemTotal: 8 kB" -> 8192); counts without a unit stay counts."""
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name.strip()] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return fields


def parse_os_release(text: str) -> str:
    """PRETTY_NAME from /etc/os-release, as nodeInfo.osImage."""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "PRETTY_NAME":
            return value.strip().strip("\"'")
    return "Linux"


def parse_thread_count(loadavg: str) -> int:
    """Scheduling entities in use, from /proc/loadavg ("0.1 0.2 0.3 2/345 678" -> 345)."""
    return int(loadavg.split()[3].partition("/")[2])


def architecture(machine: str | None = None) -> str:
    machine = machine or platform.machine()
    return _ARCHITECTURES.get(machine, machine)


@dataclass(frozen=True)
class HostFacts:
    cpus: int
    memory_total: int  # bytes
    memory_available: int
    hugepages: dict[str, int]  # "hugepages-2Mi" -> bytes
    disk_total: int  # bytes of the filesystem holding the data dir
    disk_available: int
    pid_max: int
    threads: int
    machine_id: str
    system_uuid: str
    boot_id: str
    kernel_version: str
    os_image: str
    architecture: str

    @property
    def memory_pressure(self) -> bool:
        return self.memory_available < MEMORY_EVICTION

    @property
    def disk_pressure(self) -> bool:
        return self.disk_available < self.disk_total * NODEFS_EVICTION

    @property
    def pid_pressure(self) -> bool:
        return self.pid_max - self.threads < self.pid_max * PID_EVICTION


def hugepage_sizes(meminfo: dict[str, int]) -> dict[str, int]:
    """The default huge page size's pool, as capacity "hugepages-<size>" (upstream lists every size)."""
    size = meminfo.get("Hugepagesize", 0)
    if not size:
        return {}
    label = f"{size // (1024 * 1024 * 1024)}Gi" if size >= 1024**3 else f"{size // (1024 * 1024)}Mi"
    return {f"hugepages-{label}": meminfo.get("HugePages_Total", 0) * size}


def _read(path: str, default: str = "") -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return default


def read_host(data_dir: Path) -> HostFacts:
    """The host's facts now (blocking: a few small reads; call it in a thread)."""
    meminfo = parse_meminfo(_read("/proc/meminfo"))
    disk = os.statvfs(data_dir)
    return HostFacts(
        cpus=os.cpu_count() or 1,
        memory_total=meminfo.get("MemTotal", 0),
        memory_available=meminfo.get("MemAvailable", meminfo.get("MemFree", 0)),
        hugepages=hugepage_sizes(meminfo),
        disk_total=disk.f_blocks * disk.f_frsize,
        disk_available=disk.f_bavail * disk.f_frsize,
        pid_max=int(_read("/proc/sys/kernel/pid_max", "32768").strip() or 32768),
        threads=parse_thread_count(_read("/proc/loadavg", "0 0 0 0/0 0")),
        machine_id=_read("/etc/machine-id").strip(),
        system_uuid=_read("/sys/class/dmi/id/product_uuid").strip().lower(),
        boot_id=_read("/proc/sys/kernel/random/boot_id").strip(),
        kernel_version=platform.release(),
        os_image=parse_os_release(_read("/etc/os-release")),
        architecture=architecture(),
    )
