"""A pod's status from what the node knows: pure functions with upstream's phase and condition rules."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from kubelite.agent.pods.types import JSON
from kubelite.agent.runtime.types import ContainerState, Status

CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


def rfc3339(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ContainerView:
    """One container of the spec as the pod loop sees it."""

    name: str
    image: str
    current: ContainerState | None = None  # the newest run
    previous: ContainerState | None = None  # the run before it, exited (lastState)
    waiting: tuple[str, str] | None = None  # (reason, message) when the loop holds it back
    ready: bool = False  # readiness probe (True without one) — meaningful only while running
    started: bool = False  # startup probe (True without one)


def _terminated(state: ContainerState, runtime: str) -> JSON:
    code = state.exit_code if state.exit_code is not None else 137
    reason = "OOMKilled" if state.oom_killed else ("Completed" if code == 0 else "Error")
    out: JSON = {"exitCode": code, "reason": reason}
    out["startedAt"] = rfc3339(state.started_at) if state.started_at else None
    out["finishedAt"] = rfc3339(state.finished_at) if state.finished_at else None
    out["containerID"] = f"{runtime}://{state.container_id}"
    return out


def _waiting(reason: str, message: str = "") -> JSON:
    return {"waiting": {"reason": reason, **({"message": message} if message else {})}}


def container_status(view: ContainerView, runtime: str, default_reason: str) -> JSON:
    current, last = view.current, view.previous
    running = current is not None and current.status is Status.RUNNING
    if view.waiting is not None and not running:
        state = _waiting(*view.waiting)
        if current is not None and current.status is Status.EXITED:
            last = current
    elif current is None or current.status is Status.CREATED:
        state = _waiting(default_reason)
    elif running:
        assert current is not None
        state = {"running": {"startedAt": rfc3339(current.started_at or current.created_at)}}
    else:
        assert current is not None
        state = {"terminated": _terminated(current, runtime)}
    out: JSON = {
        "name": view.name,
        "state": state,
        "lastState": {"terminated": _terminated(last, runtime)} if last is not None else {},
        "ready": running and view.ready,
        "restartCount": current.attempt if current is not None else 0,
        "image": current.image_ref if current is not None else view.image,
        "imageID": current.image_id if current is not None else "",
        "started": running and view.started,
    }
    if current is not None:
        out["containerID"] = f"{runtime}://{current.container_id}"
    return out


def pod_phase(restart_policy: str, init_statuses: Sequence[JSON], statuses: Sequence[JSON]) -> str:
    """Upstream's getPhase for the statuses just built."""
    pending_init = failed_init = 0
    for status in init_statuses:
        state, last = status["state"], status.get("lastState") or {}
        if "terminated" in state:
            failed_init += state["terminated"]["exitCode"] != 0
        elif "waiting" in state and "terminated" in last:
            failed_init += last["terminated"]["exitCode"] != 0
        else:
            pending_init += 1
    running = waiting = stopped = succeeded = 0
    for status in statuses:
        state = status["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif "terminated" in (status.get("lastState") or {}):
            stopped += 1
        else:
            waiting += 1
    if failed_init and restart_policy == "Never":
        return "Failed"
    if pending_init or waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def _condition(kind: str, ok: bool, reason: str = "", message: str = "") -> JSON:
    out: JSON = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None}
    if not ok and reason:
        out["reason"] = reason
    if not ok and message:
        out["message"] = message
    return out


def conditions(
    phase: str, *, sandbox_ready: bool, init_statuses: Sequence[JSON], statuses: Sequence[JSON]
) -> list[JSON]:
    incomplete = [
        s["name"] for s in init_statuses if (s["state"].get("terminated") or {}).get("exitCode", 1) != 0
    ]
    initialized = _condition(
        "Initialized",
        not incomplete,
        "ContainersNotInitialized",
        f"containers with incomplete status: [{' '.join(incomplete)}]",
    )
    unready = [s["name"] for s in statuses if not s["ready"]]
    if phase == "Succeeded":
        ready = _condition("ContainersReady", False, "PodCompleted")
    elif phase == "Failed" and unready:
        ready = _condition("ContainersReady", False, "PodFailed")
    else:
        ready = _condition(
            "ContainersReady",
            not unready,
            "ContainersNotReady",
            f"containers with unready status: [{' '.join(unready)}]",
        )
    return [
        _condition("PodReadyToStartContainers", sandbox_ready),
        initialized,
        {**ready, "type": "Ready"},
        ready,
    ]


def merge_conditions(old: Sequence[JSON], new: Sequence[JSON], now: str) -> list[JSON]:
    """The new conditions, keeping lastTransitionTime where the status did not change, and keeping conditions
    the node does not own (PodScheduled, readiness gates' ...)."""
    previous = {c.get("type"): c for c in old}
    ours = {c["type"] for c in new}
    merged = []
    for condition in new:
        before = previous.get(condition["type"])
        unchanged = before is not None and before.get("status") == condition["status"]
        stamp = before.get("lastTransitionTime") if unchanged and before else now
        merged.append({**condition, "lastTransitionTime": stamp or now})
    merged.extend(c for c in old if c.get("type") not in ours)
    order = {kind: i for i, kind in enumerate(CONDITION_ORDER)}
    return sorted(merged, key=lambda c: order.get(c.get("type", ""), len(order)))


@dataclass(frozen=True)
class PodFacts:
    host_ip: str
    pod_ip: str  # "" until the sandbox has one
    sandbox_ready: bool
    start_time: float
    now: float
    runtime: str = "crun"
    terminal: tuple[str, str, str] | None = None  # (phase, reason, message) the node decided, e.g. a deadline


def pod_status(
    pod: JSON, init_views: Sequence[ContainerView], views: Sequence[ContainerView], facts: PodFacts
) -> JSON:
    old = pod.get("status") or {}
    spec = pod.get("spec") or {}
    init_done = all(
        v.current is not None
        and v.current.status is Status.EXITED
        and v.current.exit_code == 0
        and v.waiting is None
        for v in init_views
    )
    init_statuses = [container_status(v, facts.runtime, "PodInitializing") for v in init_views]
    default = "ContainerCreating" if init_done else "PodInitializing"
    statuses = [container_status(v, facts.runtime, default) for v in views]
    phase = pod_phase(spec.get("restartPolicy", "Always"), init_statuses, statuses)
    if old.get("phase") in ("Succeeded", "Failed"):
        phase = old["phase"]  # a terminal phase never changes
    status: JSON = {"phase": phase, "hostIP": facts.host_ip, "hostIPs": [{"ip": facts.host_ip}]}
    if facts.terminal is not None:
        status["phase"], status["reason"], status["message"] = facts.terminal
    if facts.pod_ip:
        status["podIP"], status["podIPs"] = facts.pod_ip, [{"ip": facts.pod_ip}]
    status["startTime"] = old.get("startTime") or rfc3339(facts.start_time)
    if old.get("qosClass"):
        status["qosClass"] = old["qosClass"]
    new_conditions = conditions(
        status["phase"], sandbox_ready=facts.sandbox_ready, init_statuses=init_statuses, statuses=statuses
    )
    status["conditions"] = merge_conditions(old.get("conditions") or [], new_conditions, rfc3339(facts.now))
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = statuses
    return status
