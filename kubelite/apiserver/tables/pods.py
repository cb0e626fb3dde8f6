"""Table columns of pods: NAME READY STATUS RESTARTS AGE (wide: IP NODE NOMINATED NODE READINESS GATES).

STATUS summarises the pod the way kubectl users expect: the first failing init container (`Init:0/2`,
`Init:CrashLoopBackOff`), else the most telling container state (`CrashLoopBackOff`, `Completed`,
`ExitCode:1`), else the phase; `Terminating` once deletion started.
"""

from __future__ import annotations

import datetime
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


def _latest(current: datetime.datetime | None, status: dict[str, Any]) -> datetime.datetime | None:
    finished = parse_time(((status.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
    if finished and (current is None or finished > current):
        return finished
    return current


def _is_sidecar(spec_containers: list[dict[str, Any]], index: int) -> bool:
    return index < len(spec_containers) and spec_containers[index].get("restartPolicy") == "Always"


def pod_cells(pod: dict[str, Any], now: datetime.datetime) -> Row:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    meta = pod.get("metadata") or {}
    init_specs = spec.get("initContainers") or []
    total = len(spec.get("containers") or []) + sum(
        1 for i in range(len(init_specs)) if _is_sidecar(init_specs, i)
    )
    reason = status.get("reason") or status.get("phase") or ""
    restarts, ready = 0, 0
    last_restart: datetime.datetime | None = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _latest(last_restart, cs)
        state = cs.get("state") or {}
        if _is_sidecar(init_specs, i) and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if "terminated" in state and (state["terminated"] or {}).get("exitCode", 0) == 0:
            continue
        if "terminated" in state:
            reason = _terminated_reason(state, prefix="Init:")
        elif (state.get("waiting") or {}).get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _latest(last_restart, cs)
            state = cs.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif "terminated" in state:
                reason = _terminated_reason(state)
            elif "running" in state and cs.get("ready"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conditions = status.get("conditions") or []
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    restart_text = str(restarts)
    if restarts and last_restart is not None:
        restart_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
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
        status.get("podIP") or "<none>",
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
