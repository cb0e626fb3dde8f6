"""What the node remembers about a pod between syncs, and the status it derives from that and the runtime."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

from kubelite.agent.network.types import Sandbox
from kubelite.agent.pods.status import ContainerView, PodFacts, pod_status
from kubelite.agent.pods.types import JSON, PodOptions
from kubelite.agent.runtime.types import ContainerState, Status
from kubelite.client import paths
from kubelite.client.rest import RestClient

PODS = paths.resource("", "v1", "pods")


@dataclass
class PodRecord:
    """What the node remembers about one pod between syncs (rebuilt from disk after a restart)."""

    uid: str
    start_time: float = field(default_factory=time.time)
    sandbox: Sandbox | None = None
    volumes_at: float | None = None  # when volumes were last set up or refreshed
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)  # container name -> (reason, message)
    probed: set[str] = field(default_factory=set)  # container ids handed to the prober
    ready: dict[str, bool] = field(default_factory=dict)  # container id -> readiness verdict
    started: dict[str, bool] = field(default_factory=dict)  # container id -> startup verdict
    liveness_failed: dict[str, str] = field(default_factory=dict)  # container id -> probe message
    terminal: tuple[str, str, str] | None = None  # (phase, reason, message) decided here
    written: JSON | None = None  # the last status written


def by_name(states: list[ContainerState]) -> dict[str, list[ContainerState]]:
    runs: dict[str, list[ContainerState]] = {}
    for state in sorted(states, key=lambda s: s.attempt):
        runs.setdefault(state.name, []).append(state)
    return runs


def newest(runs: dict[str, list[ContainerState]], name: str) -> ContainerState | None:
    history = runs.get(name)
    return history[-1] if history else None


def restarts(policy: str, state: ContainerState) -> bool:
    return policy == "Always" or (policy == "OnFailure" and state.exit_code != 0)


def start_time(pod: JSON) -> float:
    """status.startTime of a pod this node already started (after an agent restart), else now."""
    stamp = (pod.get("status") or {}).get("startTime")
    if not stamp:
        return time.time()
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC).timestamp()


def grace_period(pod: JSON) -> float:
    deletion = pod["metadata"].get("deletionGracePeriodSeconds")
    if deletion is not None:
        return float(deletion)
    spec_grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    return 30.0 if spec_grace is None else float(spec_grace)


def _views(
    record: PodRecord, containers: list[JSON], runs: dict[str, list[ContainerState]]
) -> list[ContainerView]:
    views = []
    for container in containers:
        history = runs.get(container["name"]) or []
        current = history[-1] if history else None
        previous = next((s for s in reversed(history[:-1]) if s.status is Status.EXITED), None)
        cid = current.container_id if current is not None else ""
        views.append(
            ContainerView(
                name=container["name"],
                image=container.get("image", ""),
                current=current,
                previous=previous,
                waiting=record.waiting.get(container["name"]),
                ready=record.ready.get(cid, False) if container.get("readinessProbe") else True,
                started=record.started.get(cid, False) if container.get("startupProbe") else True,
            )
        )
    return views


async def write_status(
    client: RestClient,
    options: PodOptions,
    pod: JSON,
    record: PodRecord,
    states: list[ContainerState],
    *,
    sandbox_ready: bool,
) -> JSON:
    """Patch the pod's status when it differs from what was last written; returns the status."""
    spec = pod.get("spec") or {}
    runs = by_name(states)
    has_ip = record.sandbox is not None or bool(spec.get("hostNetwork"))
    facts = PodFacts(
        host_ip=options.node_ip,
        pod_ip=(record.sandbox.ip if record.sandbox is not None else options.node_ip) if has_ip else "",
        sandbox_ready=sandbox_ready and has_ip,
        start_time=record.start_time,
        now=time.time(),
        runtime=options.runtime_name,
        terminal=record.terminal,
    )
    # What we wrote last is the truth to compare with: the watch may not have delivered it yet.
    base = {**pod, "status": record.written or pod.get("status") or {}}
    status = pod_status(
        base,
        _views(record, spec.get("initContainers") or [], runs),
        _views(record, spec.get("containers") or [], runs),
        facts,
    )
    if status == record.written:
        return status
    patch = {**{key: None for key in (record.written or {}) if key not in status}, **status}
    meta = pod["metadata"]
    await client.patch(
        PODS, meta["name"], {"status": patch}, namespace=meta["namespace"], subresource="status"
    )
    record.written = status
    return status
