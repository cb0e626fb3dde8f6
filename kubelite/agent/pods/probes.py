"""Startup, liveness and readiness probes: one asyncio task per running container and probe kind.

As upstream's prober: readiness starts false, liveness true and startup unknown; a result flips only after
successThreshold consecutive successes or failureThreshold consecutive failures; a startup probe gates the
other two until it succeeds, then stops. A liveness or startup probe that has failed stops too: the pod loop
restarts the container, and `update()` with the new container ID starts over. Probe errors (a port name the
container lacks, an exec that cannot run) are reported but change nothing, as upstream throws them away.

gRPC probes call grpc.health.v1.Health/Check on the pod IP (kubelite.agent.pods.grpcprobe).

`on_result(key, result)` is called when a result flips and whenever an attempt needs an event
(Unhealthy for failures and errors, ProbeWarning for redirects to another host), with upstream's message.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kubelite.agent.pods.actions import (
    JSON,
    PROBE_USER_AGENT,
    ActionError,
    Connect,
    ExecRuntime,
    connect,
    dial,
    http_get,
    http_get_action,
    resolve_port,
    run_exec,
)
from kubelite.agent.pods.grpcprobe import grpc_check

log = logging.getLogger(__name__)

UNHEALTHY, PROBE_WARNING = "Unhealthy", "ProbeWarning"


CLOSE_TIMEOUT = 5.0


class ProbeKind(enum.StrEnum):
    STARTUP = "startup"
    LIVENESS = "liveness"
    READINESS = "readiness"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def field(self) -> str:
        return f"{self.value}Probe"


@dataclass(frozen=True)
class ProbeKey:
    pod_uid: str
    container_name: str
    kind: ProbeKind


@dataclass(frozen=True)
class ProbeResult:
    container_id: str
    healthy: bool | None  # ready / alive / started; None: a startup probe that has not decided yet
    changed: bool  # healthy differs from before this attempt
    event_reason: str = ""  # Unhealthy or ProbeWarning when this attempt deserves an event, else ""
    event_message: str = ""


def restart_message(kind: ProbeKind, container_name: str) -> str:
    """The Killing event's message when a failed liveness or startup probe restarts a container."""
    return f"Container {container_name} failed {kind.value} probe, will be restarted"


@dataclass(frozen=True)
class ProbeSpec:
    action: JSON  # the probe object: exec / httpGet / tcpSocket / grpc and the timings
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int

    @classmethod
    def from_json(cls, probe: JSON) -> ProbeSpec:
        return cls(
            action=probe,
            initial_delay=float(probe.get("initialDelaySeconds") or 0),
            period=float(probe.get("periodSeconds") or 10),
            timeout=float(probe.get("timeoutSeconds") or 1),
            success_threshold=int(probe.get("successThreshold") or 1),
            failure_threshold=int(probe.get("failureThreshold") or 3),
        )


@dataclass(frozen=True)
class Target:
    """Where a probe goes: the container (for exec) and the pod's network (for httpGet and tcpSocket)."""

    container_id: str
    container: JSON
    netns_path: str | None
    pod_ip: str


@dataclass(frozen=True)
class Outcome:
    status: str  # success, warning (counts as success), failure, or error (ignored but reported)
    output: str


async def run_probe(
    runtime: ExecRuntime, spec: ProbeSpec, target: Target, connect_to: Connect = connect
) -> Outcome:
    """One attempt, with upstream's outputs."""
    action = spec.action
    try:
        if "exec" in action:
            command = list((action["exec"] or {}).get("command") or ())
            try:
                code, output = await run_exec(runtime, target.container_id, command, spec.timeout)
            except ActionError as exc:
                return Outcome("failure", str(exc))
            return Outcome("success" if code == 0 else "failure", output)
        if "httpGet" in action:
            request = http_get_action(action["httpGet"] or {}, target.container, target.pod_ip)
            try:
                response = await http_get(
                    request,
                    netns_path=target.netns_path,
                    timeout=spec.timeout,
                    user_agent=PROBE_USER_AGENT,
                    connect_to=connect_to,
                )
            except ActionError as exc:
                return Outcome("failure", str(exc))
            if not 200 <= response.status < 400:
                return Outcome("failure", f"HTTP probe failed with statuscode: {response.status}")
            if response.redirected_elsewhere:
                return Outcome("warning", f"Probe terminated redirects, Response body: {response.body}")
            return Outcome("success", response.body)
        if "tcpSocket" in action:
            socket_action = action["tcpSocket"] or {}
            host = socket_action.get("host") or target.pod_ip
            port = resolve_port(socket_action.get("port", 0), target.container)
            try:
                _, writer = await dial(connect_to, target.netns_path, host, port, spec.timeout)
            except ActionError as exc:
                return Outcome("failure", str(exc))
            writer.close()
            return Outcome("success", "")
        if "grpc" in action:
            grpc_action = action["grpc"] or {}
            port = resolve_port(grpc_action.get("port", 0), None)
            service = grpc_action.get("service") or ""
            healthy, output = await grpc_check(
                target.netns_path, target.pod_ip, port, service, spec.timeout, connect_to
            )
            return Outcome("success" if healthy else "failure", output)
        return Outcome("error", "missing probe handler")
    except ActionError as exc:
        return Outcome("error", str(exc))
    except Exception as exc:  # the runtime could not exec (the container went away, ...)
        return Outcome("error", str(exc) or type(exc).__name__)


@dataclass
class _Container:
    pod_uid: str
    name: str
    target: Target
    started_at: float
    specs: dict[ProbeKind, ProbeSpec]
    results: dict[ProbeKind, bool | None]
    started: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


_INITIAL = {ProbeKind.STARTUP: None, ProbeKind.LIVENESS: True, ProbeKind.READINESS: False}


class Prober:
    def __init__(
        self,
        runtime: ExecRuntime,
        *,
        on_result: Callable[[ProbeKey, ProbeResult], None],
        connect_to: Connect = connect,
    ) -> None:
        self.runtime = runtime
        self.on_result = on_result
        self.connect_to = connect_to
        self._containers: dict[str, _Container] = {}  # by container ID
        self._current: dict[tuple[str, str], str] = {}  # (pod uid, container name) -> container ID

    def update(
        self,
        pod: JSON,
        container_name: str,
        container_id: str,
        netns_path: str | None,
        pod_ip: str,
        started_at: float,
    ) -> None:
        """Start probing a container that has started; calling it again for the same container is a no-op."""
        if container_id in self._containers:
            return
        pod_uid = pod["metadata"]["uid"]
        previous = self._current.get((pod_uid, container_name))
        if previous is not None:
            self.forget(previous)
        spec = pod.get("spec") or {}
        containers = [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]
        container: JSON = next((c for c in containers if c.get("name") == container_name), {})
        specs = {
            kind: ProbeSpec.from_json(container[kind.field])
            for kind in ProbeKind
            if container.get(kind.field)
        }
        entry = _Container(
            pod_uid=pod_uid,
            name=container_name,
            target=Target(container_id, container, netns_path, pod_ip),
            started_at=started_at,
            specs=specs,
            results={kind: _INITIAL[kind] for kind in specs},
        )
        if ProbeKind.STARTUP not in specs:
            entry.started.set()
        self._containers[container_id] = entry
        self._current[(pod_uid, container_name)] = container_id
        for kind, probe in specs.items():
            name = f"probe {kind.value} {pod_uid}/{container_name}"
            entry.tasks.append(asyncio.create_task(self._work(entry, kind, probe), name=name))

    def forget(self, container_id: str) -> None:
        """Stop probing a container (it stopped, or its pod went away)."""
        entry = self._containers.pop(container_id, None)
        if entry is None:
            return
        if self._current.get((entry.pod_uid, entry.name)) == container_id:
            del self._current[(entry.pod_uid, entry.name)]
        for task in entry.tasks:
            task.cancel()

    def _entry(self, pod_uid: str, container_name: str) -> _Container | None:
        container_id = self._current.get((pod_uid, container_name))
        return self._containers.get(container_id) if container_id is not None else None

    def started(self, pod_uid: str, container_name: str) -> bool:
        """The container's `started`: its startup probe has succeeded, or it has none."""
        entry = self._entry(pod_uid, container_name)
        return entry is not None and entry.started.is_set()

    def ready(self, pod_uid: str, container_name: str) -> bool:
        """The container's `ready`: started, and its readiness probe passes (or it has none)."""
        entry = self._entry(pod_uid, container_name)
        if entry is None or not entry.started.is_set():
            return False
        return entry.results.get(ProbeKind.READINESS, True) is True

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> None:  # noqa: ASYNC109
        """Stop every probe; a probe stuck in a runtime call (a cancelled subprocess spawn can wait for
        its child under CPython 3.11) is left behind after `timeout` rather than holding the shutdown."""
        tasks = [task for entry in self._containers.values() for task in entry.tasks]
        for container_id in list(self._containers):
            self.forget(container_id)
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=timeout)
            if stuck:
                log.warning("%d probes did not stop within %.0fs", len(stuck), timeout)

    async def _work(self, entry: _Container, kind: ProbeKind, spec: ProbeSpec) -> None:
        try:
            await self._probe_loop(entry, kind, spec)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s probe of %s/%s stopped", kind.value, entry.pod_uid, entry.name)

    async def _probe_loop(self, entry: _Container, kind: ProbeKind, spec: ProbeSpec) -> None:
        key = ProbeKey(entry.pod_uid, entry.name, kind)
        if kind is not ProbeKind.STARTUP:
            await entry.started.wait()
        delay = entry.started_at + spec.initial_delay - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        last: bool | None = None
        run = 0
        while True:
            outcome = await run_probe(self.runtime, spec, entry.target, self.connect_to)
            reason, message = _event(kind, outcome)
            before = entry.results[kind]
            if outcome.status != "error":
                ok = outcome.status != "failure"
                run = run + 1 if ok == last else 1
                last = ok
                if run >= (spec.success_threshold if ok else spec.failure_threshold):
                    entry.results[kind] = ok
            after = entry.results[kind]
            if after != before or reason:
                result = ProbeResult(entry.target.container_id, after, after != before, reason, message)
                try:
                    self.on_result(key, result)
                except Exception:  # the consumer's bug must not stop the probe
                    log.exception("probe result handler failed for %s", key)
            if kind is ProbeKind.STARTUP and after is True:
                entry.started.set()
                return
            if kind is not ProbeKind.READINESS and after is False:
                return  # on hold: the container is restarted and probed afresh under its new ID
            await asyncio.sleep(spec.period)


def _event(kind: ProbeKind, outcome: Outcome) -> tuple[str, str]:
    if outcome.status == "failure":
        return UNHEALTHY, f"{kind.label} probe failed: {outcome.output}"
    if outcome.status == "error":
        return UNHEALTHY, f"{kind.label} probe errored: {outcome.output}"
    if outcome.status == "warning":
        return PROBE_WARNING, f"{kind.label} probe warning: {outcome.output}"
    return "", ""
