"""What the pod loop asks of a container runtime, and what it learns back."""

from __future__ import annotations

import builtins
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kubelite.agent.images.store import ImageRecord


@dataclass(frozen=True)
class Mount:
    """One OCI mount: `destination` inside the container, `source` on the node."""

    destination: str
    source: str
    type: str = "bind"
    options: tuple[str, ...] = ("rbind", "rw")


@dataclass(frozen=True)
class Resources:
    """cgroup limits; None leaves the runtime default (unlimited)."""

    cpu_shares: int | None = None  # 2..262144, from the cpu request (milli * 1024 / 1000)
    cpu_quota: int | None = None  # microseconds per period, from the cpu limit
    cpu_period: int = 100_000
    memory_limit: int | None = None  # bytes
    pids_limit: int | None = None


@dataclass(frozen=True)
class Security:
    run_as_user: int | None = None  # None: the image's user (or root)
    run_as_group: int | None = None
    supplemental_groups: tuple[int, ...] = ()
    read_only_root: bool = False
    privileged: bool = False
    add_capabilities: tuple[str, ...] = ()  # Kubernetes spelling, without CAP_
    drop_capabilities: tuple[str, ...] = ()  # "ALL" drops everything
    allow_privilege_escalation: bool = True


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create one container of a pod; built by the pod loop from the pod spec."""

    container_id: str  # unique on the node, [A-Za-z0-9_.-]; see container_id()
    pod_uid: str
    pod_namespace: str
    pod_name: str
    name: str  # the container's name in the pod
    attempt: int  # restart count this run will have
    image: ImageRecord
    argv: tuple[str, ...]  # final argv: command/args merged with the image's ENTRYPOINT/CMD
    env: tuple[str, ...]  # "K=V", the image's env already merged in (pod's values win)
    working_dir: str
    mounts: tuple[Mount, ...]
    netns_path: str | None  # None: the host's network (hostNetwork pods)
    hostname: str
    log_path: Path  # CRI-format log file written by the monitor
    cgroup_parent: str  # absolute cgroup path of the pod, e.g. /kubelite/pod<uid>
    resources: Resources = field(default_factory=Resources)
    security: Security = field(default_factory=Security)
    tty: bool = False
    stdin: bool = False
    stdin_once: bool = False


def container_id(pod_uid: str, name: str, attempt: int) -> str:
    """Readable, unique per run, and valid for runc."""
    return f"{pod_uid}_{name}_{attempt}"


class Status(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"


@dataclass(frozen=True)
class ContainerState:
    container_id: str
    pod_uid: str
    pod_namespace: str
    pod_name: str
    name: str
    attempt: int
    status: Status
    image_ref: str  # the reference it was created from
    image_id: str  # ImageRecord.image_id
    created_at: float  # unix seconds
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    pid: int | None = None


class ImageConfig(Protocol):
    @property
    def entrypoint(self) -> tuple[str, ...]: ...
    @property
    def cmd(self) -> tuple[str, ...]: ...
    @property
    def env(self) -> tuple[str, ...]: ...
    @property
    def working_dir(self) -> str: ...
    @property
    def user(self) -> str: ...


class Runtime(Protocol):
    """kubelite.agent.runtime.oci.OciRuntime implements this with crun/runc and conmon."""

    async def create_and_start(self, spec: ContainerSpec) -> ContainerState:
        """Mount the root filesystem, write the bundle, start it under its monitor; raises RuntimeFailure."""
        ...

    async def list(self, pod_uid: str | None = None) -> list[ContainerState]:
        """Every container this runtime knows (or one pod's), running or exited, from disk (survives agent
        restarts)."""
        ...

    async def state(self, container_id: str) -> ContainerState | None: ...

    async def stop(self, container_id: str, grace_seconds: float) -> None:
        """SIGTERM, then SIGKILL after the grace period; returns once it has exited."""
        ...

    async def remove(self, container_id: str) -> None:
        """Forget an exited container: runtime state, rootfs mount, bundle, its cgroup. Idempotent."""
        ...

    def exec_command(
        self, container_id: str, argv: builtins.list[str], *, tty: bool, env: dict[str, str]
    ) -> builtins.list[str]:
        """The host command line that runs argv inside the container (for exec streams and probes)."""
        ...

    def image_config(self, image: ImageRecord) -> ImageConfig: ...

    async def remove_pod_cgroup(self, pod_uid: str) -> None: ...


class RuntimeFailure(Exception):
    """The container could not be created or started; the message becomes its waiting message."""

    def __init__(self, message: str, *, reason: str = "CreateContainerError") -> None:
        super().__init__(message)
        self.reason = reason  # CreateContainerError, CreateContainerConfigError, RunContainerError, ...
