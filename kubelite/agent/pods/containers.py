"""From a pod's container to the runtime's ContainerSpec: argv, env, mounts, cgroup limits, security."""

from __future__ import annotations

import math
import socket
from collections.abc import Sequence
from typing import Any

from kubelite.agent.images.store import ImageRecord
from kubelite.agent.paths import NodePaths
from kubelite.agent.pods.types import JSON, POD_FILES, Waiting
from kubelite.agent.runtime.types import (
    ContainerSpec,
    ImageConfig,
    Mount,
    Resources,
    Security,
    container_id,
)
from kubelite.api.quantity import parse

MIN_SHARES, MAX_SHARES, MIN_QUOTA = 2, 262144, 1000


def format_pod(pod: JSON) -> str:
    """The kubelet's format.Pod: name_namespace(uid)."""
    meta = pod["metadata"]
    return f"{meta.get('name', '')}_{meta.get('namespace', '')}({meta.get('uid', '')})"


def resolve_argv(config: ImageConfig, command: Sequence[str], args: Sequence[str]) -> tuple[str, ...]:
    """Kubernetes' rules: command replaces ENTRYPOINT and drops CMD; args replace CMD."""
    if command:
        return (*command, *args)
    return (*config.entrypoint, *(args or config.cmd))


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def merge_env(image_env: Sequence[str], pod_env: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The image's variables, then the pod's (which win); PATH defaulted as containerd does for images
    without one."""
    merged = {"PATH": DEFAULT_PATH}
    merged.update(item.partition("=")[::2] for item in image_env)
    merged.update(pod_env)
    return tuple(f"{key}={value}" for key, value in merged.items())


def _milli(value: Any) -> int:
    return math.ceil(parse(value).value * 1000)


def resources(container: JSON) -> Resources:
    spec = container.get("resources") or {}
    requests, limits = spec.get("requests") or {}, spec.get("limits") or {}
    cpu_request = requests.get("cpu", limits.get("cpu"))
    shares = MIN_SHARES if cpu_request is None else _milli(cpu_request) * 1024 // 1000
    quota = None
    if "cpu" in limits:
        quota = max(MIN_QUOTA, _milli(limits["cpu"]) * 100_000 // 1000)
    memory = math.ceil(parse(limits["memory"]).value) if "memory" in limits else None
    return Resources(
        cpu_shares=min(MAX_SHARES, max(MIN_SHARES, shares)), cpu_quota=quota, memory_limit=memory
    )


def _image_uid(user: str) -> int | str | None:
    """The image's USER as a uid: None for root by default, the name when it is not numeric."""
    name = user.split(":", 1)[0]
    if not name:
        return None
    return int(name) if name.isdigit() else name


def security(pod: JSON, container: JSON, config: ImageConfig) -> Security:
    """The pod's securityContext overridden by the container's; runAsNonRoot verified as the kubelet does."""
    pod_ctx = (pod.get("spec") or {}).get("securityContext") or {}
    ctx = container.get("securityContext") or {}

    def pick(key: str) -> Any:
        return ctx[key] if ctx.get(key) is not None else pod_ctx.get(key)

    user, group = pick("runAsUser"), pick("runAsGroup")
    where = f'(pod: "{format_pod(pod)}", container: {container.get("name", "")})'
    if pick("runAsNonRoot"):
        if user == 0:
            raise Waiting(
                "CreateContainerConfigError", f"container's runAsUser breaks non-root policy {where}"
            )
        if user is None:
            image_uid = _image_uid(config.user)
            if isinstance(image_uid, str):
                raise Waiting(
                    "CreateContainerConfigError",
                    f"container has runAsNonRoot and image has non-numeric "
                    f"user ({image_uid}), cannot verify user is non-root {where}",
                )
            if not image_uid:
                raise Waiting(
                    "CreateContainerConfigError",
                    f"container has runAsNonRoot and image will run as root {where}",
                )
    groups = [int(g) for g in pod_ctx.get("supplementalGroups") or ()]
    if pod_ctx.get("fsGroup") is not None:
        groups.append(int(pod_ctx["fsGroup"]))
    capabilities = ctx.get("capabilities") or {}
    escalation = ctx.get("allowPrivilegeEscalation")
    return Security(
        run_as_user=user,
        run_as_group=group,
        supplemental_groups=tuple(groups),
        read_only_root=bool(ctx.get("readOnlyRootFilesystem")),
        privileged=bool(ctx.get("privileged")),
        add_capabilities=tuple(capabilities.get("add") or ()),
        drop_capabilities=tuple(capabilities.get("drop") or ()),
        allow_privilege_escalation=True if escalation is None else bool(escalation),
    )


def hostname(pod: JSON) -> str:
    spec = pod.get("spec") or {}
    if spec.get("hostNetwork"):
        return socket.gethostname()
    return str(spec.get("hostname") or pod["metadata"]["name"])[:63]


def build_spec(
    pod: JSON,
    container: JSON,
    *,
    attempt: int,
    image: ImageRecord,
    config: ImageConfig,
    env: Sequence[tuple[str, str]],
    volume_mounts: Sequence[Mount],
    netns_path: str | None,
    paths: NodePaths,
) -> ContainerSpec:
    meta = pod["metadata"]
    uid, name = meta["uid"], container["name"]
    taken = {mount.destination for mount in volume_mounts}
    pod_dir = paths.pod(uid)
    pod_files = [
        Mount(dest, str(pod_dir / file), options=("bind", "rw"))
        for dest, file in POD_FILES
        if dest not in taken
    ]
    return ContainerSpec(
        container_id=container_id(uid, name, attempt),
        pod_uid=uid,
        pod_namespace=meta["namespace"],
        pod_name=meta["name"],
        name=name,
        attempt=attempt,
        image=image,
        argv=resolve_argv(config, container.get("command") or (), container.get("args") or ()),
        env=merge_env(config.env, env),
        working_dir=container.get("workingDir") or config.working_dir or "/",
        mounts=(*pod_files, *volume_mounts),
        netns_path=netns_path,
        hostname=hostname(pod),
        log_path=paths.container_log(meta["namespace"], meta["name"], uid, name, attempt),
        cgroup_parent=paths.pod_cgroup(uid),
        resources=resources(container),
        security=security(pod, container, config),
        tty=bool(container.get("tty")),
        stdin=bool(container.get("stdin")),
        stdin_once=bool(container.get("stdinOnce")),
    )
