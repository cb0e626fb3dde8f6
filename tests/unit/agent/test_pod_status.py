"""Pure status rules: phase, conditions, container status shapes; back-off; container specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.agent.paths import NodePaths
from kubelite.agent.pods.backoff import Backoff, go_duration
from kubelite.agent.pods.containers import build_spec, resolve_argv, resources
from kubelite.agent.pods.status import ContainerView, container_status, merge_conditions, pod_phase
from kubelite.agent.pods.types import Waiting
from kubelite.agent.runtime.types import ContainerState, Status
from tests.unit.agent.pod_doubles import ConfigDouble, container, make_pod, record_for


def _exited(code: int, *, oom: bool = False, attempt: int = 0) -> ContainerState:
    return ContainerState(
        f"u_app_{attempt}",
        "u",
        "ns",
        "p",
        "app",
        attempt,
        Status.EXITED,
        "busybox",
        "sha256:c",
        10.0,
        started_at=11.0,
        finished_at=12.0,
        exit_code=code,
        oom_killed=oom,
    )


def _running(attempt: int = 0) -> ContainerState:
    return ContainerState(
        f"u_app_{attempt}",
        "u",
        "ns",
        "p",
        "app",
        attempt,
        Status.RUNNING,
        "busybox",
        "sha256:c",
        10.0,
        started_at=11.0,
    )


RUNNING = {"state": {"running": {}}, "lastState": {}}
WAITING = {"state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
CRASHED = {"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1}}}


def _done(code: int) -> dict:
    return {"state": {"terminated": {"exitCode": code}}, "lastState": {}}


@pytest.mark.parametrize(
    ("policy", "init", "containers", "phase"),
    [
        ("Always", [], [WAITING], "Pending"),
        ("Always", [], [RUNNING, WAITING], "Pending"),
        ("Always", [], [RUNNING, _done(0)], "Running"),
        ("Always", [], [_done(0)], "Running"),
        ("Always", [], [CRASHED], "Running"),
        ("Never", [], [_done(0), _done(0)], "Succeeded"),
        ("Never", [], [_done(0), _done(3)], "Failed"),
        ("OnFailure", [], [_done(3)], "Running"),
        ("OnFailure", [], [_done(0)], "Succeeded"),
        ("Never", [_done(1)], [WAITING], "Failed"),
        ("Always", [CRASHED], [WAITING], "Pending"),
        ("Always", [RUNNING], [WAITING], "Pending"),
        ("Always", [_done(0)], [RUNNING], "Running"),
    ],
)
def test_phase_rules(policy: str, init: list, containers: list, phase: str) -> None:
    assert pod_phase(policy, init, containers) == phase


def test_container_status_shapes() -> None:
    view = ContainerView("app", "busybox", current=_exited(137, oom=True, attempt=1), previous=_exited(1))
    status = container_status(view, "crun", "ContainerCreating")
    assert status["state"] == {
        "terminated": {
            "exitCode": 137,
            "reason": "OOMKilled",
            "startedAt": "1970-01-01T00:00:11Z",
            "finishedAt": "1970-01-01T00:00:12Z",
            "containerID": "crun://u_app_1",
        }
    }
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert status["restartCount"] == 1 and status["imageID"] == "sha256:c" and not status["ready"]
    waiting = container_status(
        ContainerView("app", "busybox", current=_exited(1), waiting=("CrashLoopBackOff", "back-off 10s")),
        "crun",
        "ContainerCreating",
    )
    assert waiting["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}}
    assert waiting["lastState"]["terminated"]["exitCode"] == 1
    fresh = container_status(ContainerView("app", "busybox"), "crun", "PodInitializing")
    assert fresh["state"] == {"waiting": {"reason": "PodInitializing"}} and "containerID" not in fresh
    running = container_status(
        ContainerView("app", "busybox", current=_running(), ready=True, started=True),
        "crun",
        "ContainerCreating",
    )
    assert running["ready"] and running["started"] and running["state"]["running"]["startedAt"]


def test_conditions_keep_their_transition_time_while_unchanged() -> None:
    old = [
        {"type": "Ready", "status": "False", "lastTransitionTime": "then"},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "sched"},
    ]
    merged = merge_conditions(
        old, [{"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}], "now"
    )
    assert merged == [
        {"type": "Initialized", "status": "True", "lastTransitionTime": "now"},
        {"type": "Ready", "status": "False", "lastTransitionTime": "then"},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "sched"},
    ]
    flipped = merge_conditions(old, [{"type": "Ready", "status": "True"}], "now")
    assert flipped[0]["lastTransitionTime"] == "now"


def test_backoff_doubles_caps_and_resets_after_a_long_run() -> None:
    now = [0.0]
    backoff = Backoff(initial=10, cap=300, clock=lambda: now[0])
    assert backoff.remaining("k", 0.0) == 0
    delays = []
    for _ in range(7):
        backoff.next("k", now[0])
        delays.append(backoff.get("k"))
    assert delays == [10, 20, 40, 80, 160, 300, 300]
    now[0] = 5.0
    assert backoff.remaining("k", 5.0) == 300
    backoff.next("k", 601.0)  # ran for ten minutes: starts over
    assert backoff.get("k") == 10
    assert [go_duration(s) for s in (10, 80, 300, 3700)] == ["10s", "1m20s", "5m0s", "1h1m40s"]


def test_argv_follows_kubernetes_rules() -> None:
    config = ConfigDouble(entrypoint=("/entry",), cmd=("default",))
    assert resolve_argv(config, [], []) == ("/entry", "default")
    assert resolve_argv(config, [], ["x"]) == ("/entry", "x")
    assert resolve_argv(config, ["/bin/sh"], []) == ("/bin/sh",)
    assert resolve_argv(config, ["/bin/sh"], ["-c", "true"]) == ("/bin/sh", "-c", "true")


def test_resources_become_cgroup_limits() -> None:
    limits = resources({"resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "1", "memory": "64Mi"}}})
    assert (limits.cpu_shares, limits.cpu_quota, limits.memory_limit) == (256, 100_000, 64 << 20)
    assert resources({}).cpu_shares == 2 and resources({}).memory_limit is None


def test_security_context_merges_pod_then_container(tmp_path: Path) -> None:
    pod = make_pod(
        container(),
        securityContext={"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "runAsNonRoot": True},
    )
    app = container(
        securityContext={
            "runAsUser": 1001,
            "readOnlyRootFilesystem": True,
            "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
            "allowPrivilegeEscalation": False,
        }
    )
    spec = build_spec(
        pod,
        app,
        attempt=0,
        image=record_for("busybox"),
        config=ConfigDouble(),
        env=[],
        volume_mounts=[],
        netns_path=None,
        paths=NodePaths(tmp_path, "n"),
    )
    security = spec.security
    assert (security.run_as_user, security.run_as_group, security.supplemental_groups) == (
        1001,
        3000,
        (2000,),
    )
    assert security.read_only_root and not security.allow_privilege_escalation
    assert security.add_capabilities == ("NET_ADMIN",) and security.drop_capabilities == ("ALL",)
    assert spec.hostname == "web" and spec.log_path == tmp_path / "logs/default_web_u1/app/0.log"
    with pytest.raises(Waiting, match="image has non-numeric user"):
        build_spec(
            make_pod(container(), securityContext={"runAsNonRoot": True}),
            container(),
            attempt=0,
            image=record_for("busybox"),
            config=ConfigDouble(user="nobody"),
            env=[],
            volume_mounts=[],
            netns_path=None,
            paths=NodePaths(tmp_path, "n"),
        )
