"""Node status from the host: /proc parsing, capacity and allocatable, conditions, images."""

from __future__ import annotations

from pathlib import Path

from kubelite.agent.hostinfo import (
    HostFacts,
    architecture,
    hugepage_sizes,
    parse_meminfo,
    parse_os_release,
    parse_thread_count,
    read_host,
)
from kubelite.agent.images.store import ImageRecord
from kubelite.agent.node import capacity_and_allocatable, image_list, node_conditions

MEMINFO = """\
MemTotal:        8039204 kB
MemFree:          512000 kB
MemAvailable:    4096000 kB
HugePages_Total:       2
HugePages_Free:        2
Hugepagesize:       2048 kB
"""

GiB = 1024**3


def facts(**changes: object) -> HostFacts:
    base: dict[str, object] = {
        "cpus": 2,
        "memory_total": 8039204 * 1024,
        "memory_available": 4 * GiB,
        "hugepages": {"hugepages-2Mi": 0},
        "disk_total": 100 * GiB,
        "disk_available": 50 * GiB,
        "pid_max": 4194304,
        "threads": 300,
        "machine_id": "m",
        "system_uuid": "",
        "boot_id": "b",
        "kernel_version": "6.1.0",
        "os_image": "Debian GNU/Linux 12 (bookworm)",
        "architecture": "amd64",
    }
    return HostFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_proc_and_etc_parsers() -> None:
    meminfo = parse_meminfo(MEMINFO)
    assert meminfo["MemTotal"] == 8039204 * 1024 and meminfo["HugePages_Total"] == 2
    assert hugepage_sizes(meminfo) == {"hugepages-2Mi": 4 * 1024 * 1024}
    assert hugepage_sizes({}) == {}
    release = 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
    assert parse_os_release(release) == "Debian GNU/Linux 12 (bookworm)"
    assert parse_thread_count("0.52 0.58 0.59 3/467 12345\n") == 467
    assert architecture("x86_64") == "amd64" and architecture("aarch64") == "arm64"


def test_read_host_on_this_machine(tmp_path: Path) -> None:
    host = read_host(tmp_path)
    assert host.cpus >= 1 and host.memory_total > host.memory_available > 0
    assert host.disk_total >= host.disk_available > 0 and host.threads > 0
    assert host.kernel_version and host.os_image


def test_capacity_and_allocatable_subtract_reservations_and_eviction_thresholds() -> None:
    capacity, allocatable = capacity_and_allocatable(facts(), {"cpu": "100m", "memory": "256Mi"})
    assert capacity == {
        "cpu": "2",
        "memory": "8039204Ki",
        "ephemeral-storage": "100Gi",
        "pods": "110",
        "hugepages-2Mi": "0",
    }
    assert allocatable["cpu"] == "1900m"
    assert allocatable["memory"] == f"{8039204 - 256 * 1024 - 100 * 1024}Ki"
    assert allocatable["ephemeral-storage"] == "90Gi"  # 10% held back, as upstream's nodefs threshold
    _, odd = capacity_and_allocatable(facts(disk_total=1001), {})
    assert odd["ephemeral-storage"] == "900"  # whole bytes
    assert allocatable["pods"] == "110"


def test_pressure_signals() -> None:
    assert not facts().memory_pressure and facts(memory_available=50 * 1024 * 1024).memory_pressure
    assert not facts().disk_pressure and facts(disk_available=9 * GiB).disk_pressure
    assert not facts().pid_pressure and facts(pid_max=1000, threads=950).pid_pressure


def test_conditions_keep_their_transition_time_while_unchanged() -> None:
    first = node_conditions([], at="t1")
    assert [(c["type"], c["status"], c["reason"]) for c in first] == [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID"),
        ("Ready", "True", "KubeletReady"),
    ]
    second = node_conditions(first, at="t2", pressure={"DiskPressure": True}, not_ready="runtime down")
    by_type = {c["type"]: c for c in second}
    assert by_type["MemoryPressure"]["lastTransitionTime"] == "t1"
    assert by_type["MemoryPressure"]["lastHeartbeatTime"] == "t2"
    assert by_type["DiskPressure"] == {
        "type": "DiskPressure",
        "status": "True",
        "lastHeartbeatTime": "t2",
        "lastTransitionTime": "t2",
        "reason": "KubeletHasDiskPressure",
        "message": "kubelet has disk pressure",
    }
    assert (by_type["Ready"]["status"], by_type["Ready"]["reason"]) == ("False", "KubeletNotReady")
    assert by_type["Ready"]["message"] == "runtime down" and by_type["Ready"]["lastTransitionTime"] == "t2"


def test_image_list_groups_names_by_image_id() -> None:
    def record(ref: str, config: str, size: int) -> ImageRecord:
        return ImageRecord(ref, f"sha256:m{config}", f"sha256:{config}", (), size)

    images = image_list(
        [
            record("docker.io/library/busybox:latest", "a", 10),
            record("127.0.0.1:5000/busybox:1.36", "a", 10),
            record("docker.io/library/nginx:1", "b", 99),
        ]
    )
    assert images == [
        {"names": ["docker.io/library/nginx@sha256:mb", "docker.io/library/nginx:1"], "sizeBytes": 99},
        {
            "names": [
                "docker.io/library/busybox@sha256:ma",
                "docker.io/library/busybox:latest",
                "127.0.0.1:5000/busybox@sha256:ma",
                "127.0.0.1:5000/busybox:1.36",
            ],
            "sizeBytes": 10,
        },
    ]
