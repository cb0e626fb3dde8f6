"""Pods: STATUS, READY and RESTARTS the way upstream summarises init containers, sidecars and deletion."""

from __future__ import annotations

from typing import Any

from tests.unit.apiserver.tables.printing import ago, cells, headers, meta

INIT = {"name": "migrate"}
SIDECAR = {"name": "proxy", "restartPolicy": "Always"}
APP = {"name": "app"}


def _pod(
    status: dict[str, Any], *, init: list[dict[str, Any]] | None = None, **metadata: Any
) -> dict[str, Any]:
    return {
        "metadata": meta("web-1", **metadata),
        "spec": {"initContainers": init or [], "containers": [APP], "nodeName": "node-1"},
        "status": status,
    }


def _state(name: str, state: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": name, "state": state, **fields}


DONE = {"terminated": {"exitCode": 0, "reason": "Completed"}}
RUNNING = {"running": {"startedAt": ago(minutes=4)}}
RESTARTED = {"lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=2)}}}


def test_pod_headers() -> None:
    assert headers("", "pods") == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert headers("", "pods", wide=True)[5:] == ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]


def test_running_pod_with_a_sidecar() -> None:
    status = {
        "phase": "Running",
        "podIP": "10.42.0.7",
        "podIPs": [{"ip": "10.42.0.7"}, {"ip": "fd00::7"}],
        "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
        "initContainerStatuses": [
            _state("migrate", DONE, restartCount=2, **RESTARTED),
            _state("proxy", RUNNING, started=True, ready=True, restartCount=1),
        ],
        "containerStatuses": [_state("app", RUNNING, ready=True, restartCount=0)],
    }
    # The finished init container's restarts no longer count once the pod is initialized.
    assert cells("", "pods", _pod(status, init=[INIT, SIDECAR])) == [
        "web-1",
        "2/2",
        "Running",
        "1",
        "5m",
        "10.42.0.7",
        "node-1",
        "<none>",
        "<none>",
    ]


def test_initializing_pod_counts_init_restarts() -> None:
    status = {
        "phase": "Pending",
        "initContainerStatuses": [
            _state("migrate", {"waiting": {"reason": "CrashLoopBackOff"}}, restartCount=3, **RESTARTED)
        ],
        "containerStatuses": [_state("app", {"waiting": {"reason": "PodInitializing"}})],
    }
    assert cells("", "pods", _pod(status, init=[INIT, SIDECAR]))[1:4] == [
        "0/2",
        "Init:CrashLoopBackOff",
        "3 (2m ago)",
    ]


def test_scheduling_gated_pod() -> None:
    status = {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
    }
    assert cells("", "pods", _pod(status))[1:3] == ["0/1", "SchedulingGated"]


def test_deleting_pods() -> None:
    deleting = {"deletionTimestamp": ago(seconds=5)}
    running = {"phase": "Running", "containerStatuses": [_state("app", RUNNING, ready=True)]}
    assert cells("", "pods", _pod(running, **deleting))[2] == "Terminating"
    # A finished pod keeps its final status while it is deleted.
    succeeded = {"phase": "Succeeded", "containerStatuses": [_state("app", DONE)]}
    assert cells("", "pods", _pod(succeeded, **deleting))[2] == "Completed"
    lost = {"phase": "Running", "reason": "NodeLost"}
    assert cells("", "pods", _pod(lost, **deleting))[2] == "Unknown"


def test_completed_container_beside_a_running_one() -> None:
    status = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [_state("app", RUNNING, ready=True), _state("job", DONE)],
    }
    pod = _pod(status)
    pod["spec"]["containers"] = [APP, {"name": "job"}]
    assert cells("", "pods", pod)[1:3] == ["1/2", "NotReady"]


def test_readiness_gates() -> None:
    status = {
        "phase": "Running",
        "podIP": "10.42.0.8",
        "conditions": [
            {"type": "example.com/lb", "status": "True"},
            {"type": "example.com/dns", "status": "False"},
        ],
    }
    pod = _pod(status)
    pod["spec"]["readinessGates"] = [
        {"conditionType": "example.com/lb"},
        {"conditionType": "example.com/dns"},
    ]
    assert cells("", "pods", pod)[5:] == ["10.42.0.8", "node-1", "<none>", "1/2"]
