"""What the pod loop needs besides the runtime, network and volume contracts: options, and the small
collaborators written elsewhere (probes, hooks, env, pod files), typed here so tests can pass doubles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.agent.images.store import ImageRecord, PullPolicy
from kubelite.agent.pods.environment import Environment

JSON = dict[str, Any]

# File names under NodePaths.pod(uid) that are bind-mounted at /etc/hosts, /etc/resolv.conf, /etc/hostname.
POD_FILES = (("/etc/hosts", "etc-hosts"), ("/etc/resolv.conf", "resolv.conf"), ("/etc/hostname", "hostname"))


@dataclass(frozen=True)
class PodOptions:
    node_ip: str
    runtime_name: str = "crun"  # the containerID scheme: crun://<id>
    strict_pulls: bool = False  # no offline fallback to a local copy when the registry is unreachable
    workers: int = 32  # pod syncs at once: a sync mostly waits on the runtime, CNI and the API server
    poll_seconds: float = 1.0  # how often container exits are looked for
    resync_seconds: float = 10.0  # every pod is synced at least this often
    volume_refresh_seconds: float = 30.0
    backoff_initial: float = 10.0
    backoff_cap: float = 300.0
    keep_exited: int = 1  # exited runs of a container kept besides the current one (lastState, logs -p)
    orphan_grace_seconds: float = 2.0  # grace for pods that vanished from the API (force-deleted)


class Images(Protocol):
    """kubelite.agent.images.store.ImageStore."""

    def get(self, ref: str) -> ImageRecord | None: ...

    async def pull(self, ref: str, policy: PullPolicy = PullPolicy.IF_NOT_PRESENT) -> ImageRecord: ...


class Prober(Protocol):
    """kubelite.agent.pods.probes.Prober; its results come back through PodWorkers.probe_result()."""

    def update(
        self,
        pod: JSON,
        container_name: str,
        container_id: str,
        netns_path: str | None,
        pod_ip: str,
        started_at: float,
    ) -> None: ...

    def forget(self, container_id: str) -> None: ...


class HookRunner(Protocol):
    """kubelite.agent.pods.hooks.run_hook with the runtime bound: None, or the failure's message."""

    def __call__(
        self,
        handler: JSON,
        *,
        container_id: str,
        netns_path: str | None,
        pod_ip: str,
        timeout: float,
        pod: JSON | None = None,
        container: JSON | None = None,
    ) -> Awaitable[str | None]: ...


# kubelite.agent.pods.environment.build_env with the client and service env bound: raises ConfigError.
EnvBuilder = Callable[[JSON, JSON], Awaitable[Environment]]
# Writes POD_FILES for (pod, pod IP) into NodePaths.pod(uid) (kubelite.agent.network.podfiles).
PodFilesWriter = Callable[[JSON, str], Awaitable[None]]


@dataclass(frozen=True)
class PodHelpers:
    build_env: EnvBuilder
    write_pod_files: PodFilesWriter
    run_hook: HookRunner


class Waiting(Exception):
    """A container cannot start now: its waiting reason and message (ErrImagePull, CreateContainerConfigError,
    ...); the pod loop shows them in the container's status and retries later."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
