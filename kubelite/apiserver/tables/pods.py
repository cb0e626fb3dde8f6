"""Table columns of pods: NAME READY STATUS RESTARTS AGE (wide: IP NODE NOMINATED NODE READINESS GATES).

STATUS summarises the pod the way kubectl users expect: the first failing init container (`Init:0/2`,
`Init:CrashLoopBackOff`), else the most telling container state (`CrashLoopBackOff`, `Completed`,
`ExitCode:1`), else the phase; `SchedulingGated` while scheduling gates hold it; `Terminating` once deletion
started on a pod that has not finished. RESTARTS counts the app containers and sidecars, plus the other init
containers while the pod is still initializing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from kubelite.apiserver.tables.base import (
    AGE,
    NAME,
    Column,
    Row,
    age,
    human_duration,
    name_of,
    parse_time,
    register,
)


def _terminated_reason(state: dict[str, Any], *, prefix: str = "") -> str:
    terminated = state.get("terminated") or {}
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


@dataclass(slots=True)
class _Restarts:
    """How often a set of containers restarted, and when the last of them last finished."""

    count: int = 0
    last: datetime.datetime | None = None

    def add(self, container_status: dict[str, Any]) -> None:
        self.count += int(container_status.get("restartCount") or 0)
        terminated = (container_status.get("lastState") or {}).get("terminated") or {}
        finished = parse_time(terminated.get("finishedAt"))
        if finished and (self.last is None or finished > self.last):
            self.last = finished


def _condition_true(status: dict[str, Any], kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or [])


def _scheduling_gated(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
        for c in status.get("conditions") or []
    )


@dataclass(slots=True)
class _InitProgress:
    blocked_by: str | None = None  # the STATUS while an init container still holds the pod back
    ready_sidecars: int = 0
    restarts: _Restarts = field(default_factory=_Restarts)  # every init container walked
    sidecar_restarts: _Restarts = field(default_factory=_Restarts)


def _init_progress(spec: dict[str, Any], status: dict[str, Any]) -> _InitProgress:
    """Walk the init containers in order up to the first one that has not finished (sidecars that
    started do not block)."""
    init_specs = spec.get("initContainers") or []
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    progress = _InitProgress()
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        progress.restarts.add(cs)
        is_sidecar = cs.get("name") in sidecars
        if is_sidecar:
            progress.sidecar_restarts.add(cs)
        state = cs.get("state") or {}
        terminated = state.get("terminated")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if is_sidecar and cs.get("started"):
            progress.ready_sidecars += 1 if cs.get("ready") else 0
            continue
        waiting_reason = (state.get("waiting") or {}).get("reason")
        if terminated is not None:
            progress.blocked_by = _terminated_reason(state, prefix="Init:")
        elif waiting_reason and waiting_reason != "PodInitializing":
            progress.blocked_by = f"Init:{waiting_reason}"
        else:
            progress.blocked_by = f"Init:{i}/{len(init_specs)}"
        break
    return progress


def _pod_ip(status: dict[str, Any]) -> str:
    ips = status.get("podIPs") or []
    return str((ips[0].get("ip") if ips else None) or status.get("podIP") or "<none>")


def pod_cells(pod: dict[str, Any], now: datetime.datetime) -> Row:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    meta = pod.get("metadata") or {}
    init_specs = spec.get("initContainers") or []
    total = len(spec.get("containers") or []) + sum(
        1 for c in init_specs if c.get("restartPolicy") == "Always"
    )
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    if _scheduling_gated(status):
        reason = "SchedulingGated"
    init = _init_progress(spec, status)
    ready, restarts = init.ready_sidecars, init.restarts
    if init.blocked_by is not None:
        reason = init.blocked_by
    if init.blocked_by is None or _condition_true(status, "Initialized"):
        # Once initialized, only the sidecars' restarts count among the init containers'.
        restarts = init.sidecar_restarts
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts.add(cs)
            state = cs.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated") is not None:
                reason = _terminated_reason(state)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"
    if meta.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    restart_text = str(restarts.count)
    if restarts.count and restarts.last is not None:
        restart_text = f"{restarts.count} ({human_duration(now - restarts.last)} ago)"
    gates = spec.get("readinessGates") or []
    if gates:
        true_types = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
        gates_text = f"{sum(1 for g in gates if g.get('conditionType') in true_types)}/{len(gates)}"
    else:
        gates_text = "<none>"
    return [
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restart_text,
        age(pod, now),
        _pod_ip(status),
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


register(
    "",
    "pods",
    (
        NAME,
        Column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
        Column("Status", description="The aggregate status of the containers in this pod."),
        Column(
            "Restarts",
            description="The number of times the containers in this pod have been restarted and when the "
            "last container in this pod has restarted.",
        ),
        AGE,
        Column(
            "IP",
            priority=1,
            description="IP address allocated to the pod. Routable at least within the cluster.",
        ),
        Column("Node", priority=1, description="Name of the Node this pod is scheduled on."),
        Column(
            "Nominated Node", priority=1, description="Name of the node where the pod is nominated to run."
        ),
        Column("Readiness Gates", priority=1, description="Pod readiness gates."),
    ),
    pod_cells,
)
