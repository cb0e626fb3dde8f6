"""config.json for one container: a pure function of its ContainerSpec, following containerd's CRI defaults.

Capabilities, masked and read-only paths, and the standard mounts are containerd's; there is no seccomp
profile (Kubernetes' default is Unconfined) and no AppArmor. A privileged container gets every capability,
the host's /dev, writable /sys and cgroups and no masked paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubelite.agent.runtime.types import ContainerSpec, Mount, Security

DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
# Every capability up to CAP_CHECKPOINT_RESTORE (40), in the kernel's order.
ALL_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
MASKED_PATHS = ("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                "/sys/devices/virtual/powercap")
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

# Annotations that let the runtime rebuild a ContainerState from the bundle after an agent restart.
POD_UID = "io.kubernetes.pod.uid"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
POD_NAME = "io.kubernetes.pod.name"
CONTAINER_NAME = "io.kubernetes.container.name"
ATTEMPT = "io.kubernetes.container.restartCount"
IMAGE_REF = "io.kubelite.image.ref"
IMAGE_ID = "io.kubelite.image.id"
RUNTIME = "io.kubelite.runtime"  # the OCI runtime binary that created it (set by OciRuntime)


def _cap_name(name: str) -> str:
    upper = name.upper()
    return upper if upper.startswith("CAP_") else f"CAP_{upper}"


def host_capabilities(status: str) -> tuple[str, ...]:
    """The capabilities in a /proc/<pid>/status bounding set: what "ALL" can give on this node."""
    mask = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapBnd:"))
    return tuple(name for bit, name in enumerate(ALL_CAPABILITIES) if mask >> bit & 1)


def capabilities(security: Security, available: Sequence[str] = ALL_CAPABILITIES) -> list[str]:
    """containerd's order: ALL in add, then ALL in drop, then the single adds, then the single drops.

    ALL (and privileged) means every capability the node itself has, as containerd's current set.
    """
    if security.privileged:
        return list(available)
    adds = [_cap_name(c) for c in security.add_capabilities if c.upper() != "ALL"]
    drops = {_cap_name(c) for c in security.drop_capabilities if c.upper() != "ALL"}
    caps = list(DEFAULT_CAPABILITIES)
    if any(c.upper() == "ALL" for c in security.add_capabilities):
        caps = list(available)
    if any(c.upper() == "ALL" for c in security.drop_capabilities):
        caps = []
    caps += [c for c in adds if c not in caps]
    return [c for c in caps if c not in drops]


def _standard_mounts(privileged: bool) -> list[dict[str, Any]]:
    ro = [] if privileged else ["ro"]
    dev: dict[str, Any] = (
        {"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind", "rw"]} if privileged
        else {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
              "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]})
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        dev,
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", *ro]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", *ro]},
    ]


def _mount(mount: Mount) -> dict[str, Any]:
    return {"destination": mount.destination, "type": mount.type, "source": mount.source,
            "options": list(mount.options)}


def _resources(spec: ContainerSpec) -> dict[str, Any]:
    limits = spec.resources
    allow_all = spec.security.privileged
    resources: dict[str, Any] = {"devices": [{"allow": allow_all, "access": "rwm"}]}
    cpu: dict[str, Any] = {}
    if limits.cpu_shares is not None:
        cpu["shares"] = limits.cpu_shares
    if limits.cpu_quota is not None:
        cpu["quota"] = limits.cpu_quota
        cpu["period"] = limits.cpu_period
    if cpu:
        resources["cpu"] = cpu
    if limits.memory_limit is not None:
        resources["memory"] = {"limit": limits.memory_limit}
    if limits.pids_limit is not None:
        resources["pids"] = {"limit": limits.pids_limit}
    return resources


def build_config(spec: ContainerSpec, *, rootfs: str, uid: int, gid: int,
                 available_capabilities: Sequence[str] = ALL_CAPABILITIES) -> dict[str, Any]:
    """The OCI runtime config; `uid`/`gid` are the user already resolved against the image."""
    security = spec.security
    caps = capabilities(security, available_capabilities)
    namespaces: list[dict[str, str]] = [{"type": kind} for kind in ("pid", "ipc", "uts", "mount")]
    if spec.netns_path is not None:
        namespaces.append({"type": "network", "path": spec.netns_path})
    process: dict[str, Any] = {
        "terminal": spec.tty,
        "user": {"uid": uid, "gid": gid,
                 "additionalGids": sorted({gid, *security.supplemental_groups})},
        "args": list(spec.argv),
        "env": list(spec.env),
        "cwd": spec.working_dir or "/",
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "noNewPrivileges": not security.allow_privilege_escalation and not security.privileged,
    }
    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "cgroupsPath": f"{spec.cgroup_parent}/{spec.container_id}",
        "resources": _resources(spec),
    }
    if not security.privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    return {
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": rootfs, "readonly": security.read_only_root},
        "hostname": spec.hostname,
        "mounts": [*_standard_mounts(security.privileged), *(_mount(m) for m in spec.mounts)],
        "linux": linux,
        "annotations": {
            POD_UID: spec.pod_uid, POD_NAMESPACE: spec.pod_namespace, POD_NAME: spec.pod_name,
            CONTAINER_NAME: spec.name, ATTEMPT: str(spec.attempt),
            IMAGE_REF: spec.image.reference, IMAGE_ID: spec.image.image_id,
        },
    }
