"""The pod sync against test doubles: start, restart policies, crash-loop back-off, init order, pulls,
liveness, deadlines, graceful deletion, adoption."""

from __future__ import annotations

from pathlib import Path

from kubelite.agent.images.registry import RegistryError
from kubelite.agent.images.store import PullPolicy
from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime.types import ContainerState, Status
from tests.unit.agent.pod_doubles import UNREACHABLE, Harness, container, harness, make_pod, record_for


def _state(h: Harness, name: str = "app", *, init: bool = False) -> dict:
    key = "initContainerStatuses" if init else "containerStatuses"
    return next(s for s in h.status[key] if s["name"] == name)


def _condition(h: Harness, kind: str) -> dict:
    return next(c for c in h.status["conditions"] if c["type"] == kind)


async def test_a_pod_starts_with_sandbox_volumes_and_a_running_container(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(
        container(
            command=["echo"],
            args=["hi"],
            env=[{"name": "A", "value": "1"}],
            ports=[{"containerPort": 80, "hostPort": 8080}],
        )
    )
    await h.syncer.sync(pod)
    assert h.network.calls == [("setup", "u1")] and h.network.ports["u1"][0].host_port == 8080
    assert h.hooks == [("files", "10.42.0.2")] and h.volumes.calls == [("setup", "u1")]
    spec = h.runtime.specs["u1_app_0"]
    assert spec.argv == ("echo", "hi") and spec.env == ("PATH=/bin", "A=1")
    assert spec.netns_path == "/run/netns/kl-u1"
    assert spec.cgroup_parent == NodePaths(tmp_path, "node-a").pod_cgroup("u1")
    assert {m.destination for m in spec.mounts} >= {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"}
    assert h.status["phase"] == "Running" and h.status["podIP"] == "10.42.0.2"
    assert h.status["hostIP"] == "192.0.2.10" and h.status["qosClass"] == "BestEffort"
    status = _state(h)
    assert status["containerID"] == "crun://u1_app_0" and "running" in status["state"]
    assert status["ready"] and status["started"] and status["restartCount"] == 0
    assert [c["type"] for c in h.status["conditions"]] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c["status"] == "True" for c in h.status["conditions"])
    assert h.recorder.reasons() == ["Pulling", "Pulled", "Created", "Started"]
    assert h.prober.watched == {"u1_app_0": "app"}


async def test_status_is_written_only_when_it_changed(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container())
    await h.syncer.sync(pod)
    await h.syncer.sync(pod)
    assert len(h.client.patches) == 1 and len(h.runtime.specs) == 1


async def test_never_pod_exit_3_fails_and_releases_its_network(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container(), restartPolicy="Never")
    await h.syncer.sync(pod)
    h.runtime.exit("u1_app_0", 3)
    assert await h.syncer.sync(pod) is None
    assert h.status["phase"] == "Failed" and h.prober.forgotten == ["u1_app_0"]
    terminated = _state(h)["state"]["terminated"]
    assert terminated["exitCode"] == 3 and terminated["reason"] == "Error"
    assert _condition(h, "Ready")["reason"] == "PodFailed"
    assert ("teardown", "u1") in h.network.calls and len(h.runtime.specs) == 1


async def test_exit_0_completes_for_never_and_on_failure(tmp_path: Path) -> None:
    for policy in ("Never", "OnFailure"):
        h = harness(tmp_path)
        pod = make_pod(container(), restartPolicy=policy)
        await h.syncer.sync(pod)
        h.runtime.exit("u1_app_0", 0)
        await h.syncer.sync(pod)
        assert h.status["phase"] == "Succeeded"
        assert _state(h)["state"]["terminated"]["reason"] == "Completed"
        assert _condition(h, "Ready")["reason"] == "PodCompleted"


async def test_crash_loop_restarts_at_once_then_backs_off_doubling(tmp_path: Path) -> None:
    h = harness(tmp_path)
    now = [1000.0]
    h.syncer.crash_backoff.clock = lambda: now[0]
    pod = make_pod(container(), restartPolicy="OnFailure")
    await h.syncer.sync(pod)
    h.runtime.exit("u1_app_0", 1, finished_at=1000.0)
    await h.syncer.sync(pod)
    assert "u1_app_1" in h.runtime.specs  # the first restart is immediate
    h.runtime.exit("u1_app_1", 1, finished_at=1001.0)
    now[0] = 1002.0
    assert await h.syncer.sync(pod) == 9.0
    status = _state(h)
    assert status["state"]["waiting"] == {
        "reason": "CrashLoopBackOff",
        "message": "back-off 10s restarting failed container=app pod=web_default(u1)",
    }
    assert status["lastState"]["terminated"]["exitCode"] == 1 and status["restartCount"] == 1
    assert h.status["phase"] == "Running" and not status["ready"]
    assert h.recorder.events[-1] == (
        "Warning",
        "BackOff",
        "Back-off restarting failed container app in pod web_default(u1)",
    )
    now[0] = 1011.5
    await h.syncer.sync(pod)
    assert "u1_app_2" in h.runtime.specs and _state(h)["restartCount"] == 2
    assert "u1_app_0" not in h.runtime.containers  # only the newest exited run is kept
    h.runtime.exit("u1_app_2", 1, finished_at=1012.0)
    now[0] = 1013.0
    await h.syncer.sync(pod)
    assert "back-off 20s" in _state(h)["state"]["waiting"]["message"]


async def test_always_restarts_after_success_too(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container())
    await h.syncer.sync(pod)
    h.runtime.exit("u1_app_0", 0)
    await h.syncer.sync(pod)
    assert "u1_app_1" in h.runtime.specs and h.status["phase"] == "Running"
    assert _state(h)["lastState"]["terminated"]["reason"] == "Completed"


async def test_init_containers_run_in_order_before_the_app(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container(), init=(container("one"), container("two")))
    await h.syncer.sync(pod)
    assert list(h.runtime.specs) == ["u1_one_0"]
    assert h.status["phase"] == "Pending"
    assert _condition(h, "Initialized") == {
        "type": "Initialized",
        "status": "False",
        "lastProbeTime": None,
        "reason": "ContainersNotInitialized",
        "message": "containers with incomplete status: [one two]",
        "lastTransitionTime": _condition(h, "Initialized")["lastTransitionTime"],
    }
    assert _state(h)["state"]["waiting"]["reason"] == "PodInitializing"
    h.runtime.exit("u1_one_0", 0)
    await h.syncer.sync(pod)
    assert list(h.runtime.specs) == ["u1_one_0", "u1_two_0"]
    h.runtime.exit("u1_two_0", 0)
    await h.syncer.sync(pod)
    assert list(h.runtime.specs) == ["u1_one_0", "u1_two_0", "u1_app_0"]
    assert _condition(h, "Initialized")["status"] == "True" and h.status["phase"] == "Running"
    assert _state(h, "one", init=True)["state"]["terminated"]["reason"] == "Completed"


async def test_a_failed_init_container_fails_a_never_pod_and_is_retried_otherwise(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container(), init=(container("one"),), restartPolicy="Never")
    await h.syncer.sync(pod)
    h.runtime.exit("u1_one_0", 2)
    await h.syncer.sync(pod)
    assert h.status["phase"] == "Failed" and "u1_app_0" not in h.runtime.specs
    h = harness(tmp_path)
    pod = make_pod(container(), init=(container("one"),))
    await h.syncer.sync(pod)
    h.runtime.exit("u1_one_0", 2)
    await h.syncer.sync(pod)
    assert "u1_one_1" in h.runtime.specs and h.status["phase"] == "Pending"


async def test_pull_policy_always_for_latest_and_present_images_are_reused(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.images.present["busybox:1.36"] = record_for("busybox:1.36")
    pod = make_pod(container(), container("b", "busybox", imagePullPolicy=None))
    await h.syncer.sync(pod)
    assert h.images.pulls == [("busybox", PullPolicy.ALWAYS)]
    assert (
        "Normal",
        "Pulled",
        'Container image "busybox:1.36" already present on machine',
    ) in h.recorder.events


async def test_never_policy_without_the_image_waits_with_err_image_never_pull(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.syncer.sync(make_pod(container(imagePullPolicy="Never")))
    assert _state(h)["state"]["waiting"] == {
        "reason": "ErrImageNeverPull",
        "message": 'Container image "busybox:1.36" is not present with pull policy of Never',
    }
    assert h.status["phase"] == "Pending"


async def test_a_failed_pull_becomes_image_pull_back_off(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.images.fail = RegistryError("manifest unknown")
    pod = make_pod(container())
    delay = await h.syncer.sync(pod)
    assert delay is not None and 9 < delay <= 10
    waiting = _state(h)["state"]["waiting"]
    assert waiting == {
        "reason": "ErrImagePull",
        "message": 'Failed to pull image "busybox:1.36": manifest unknown',
    }
    await h.syncer.sync(pod)
    waiting = _state(h)["state"]["waiting"]
    assert waiting["reason"] == "ImagePullBackOff" and "manifest unknown" in waiting["message"]
    assert len(h.images.pulls) == 1
    assert h.recorder.reasons()[-2:] == ["BackOff", "Failed"]


async def test_unreachable_registry_falls_back_to_the_local_copy_unless_strict(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.images.present["busybox:latest"] = record_for("busybox:latest")
    h.images.fail = UNREACHABLE
    await h.syncer.sync(make_pod(container(image="busybox:latest", imagePullPolicy="Always")))
    assert "running" in _state(h)["state"]
    assert any(reason == "PullFallback" and kind == "Warning" for kind, reason, _ in h.recorder.events)
    h = harness(tmp_path, strict_pulls=True)
    h.images.present["busybox:latest"] = record_for("busybox:latest")
    h.images.fail = UNREACHABLE
    await h.syncer.sync(make_pod(container(image="busybox:latest", imagePullPolicy="Always")))
    assert _state(h)["state"]["waiting"]["reason"] == "ErrImagePull"


async def test_run_as_non_root_with_a_root_image_is_a_config_error(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.syncer.sync(make_pod(container(securityContext={"runAsNonRoot": True})))
    waiting = _state(h)["state"]["waiting"]
    assert waiting == {
        "reason": "CreateContainerConfigError",
        "message": "container has runAsNonRoot and image will run as root "
        '(pod: "web_default(u1)", container: app)',
    }
    assert not h.runtime.specs


async def test_liveness_failure_kills_and_restarts(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container())
    await h.syncer.sync(pod)
    h.syncer.records["u1"].liveness_failed["u1_app_0"] = (
        "Container app failed liveness probe, will be restarted"
    )
    await h.syncer.sync(pod)
    assert ("stop", "u1_app_0") in h.runtime.calls and "u1_app_1" in h.runtime.specs
    assert (
        "Normal",
        "Killing",
        "Container app failed liveness probe, will be restarted",
    ) in h.recorder.events
    assert "u1_app_0" in h.prober.forgotten and _state(h)["restartCount"] == 1


async def test_readiness_drives_ready(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container(readinessProbe={"exec": {"command": ["true"]}}))
    await h.syncer.sync(pod)
    assert not _state(h)["ready"] and _condition(h, "Ready")["status"] == "False"
    assert _condition(h, "Ready")["message"] == "containers with unready status: [app]"
    h.syncer.records["u1"].ready["u1_app_0"] = True
    await h.syncer.sync(pod)
    assert _state(h)["ready"] and _condition(h, "Ready")["status"] == "True"


async def test_active_deadline_kills_and_fails_the_pod(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container(), activeDeadlineSeconds=1)
    await h.syncer.sync(pod)
    h.syncer.records["u1"].start_time -= 5
    await h.syncer.sync(pod)
    assert h.status["phase"] == "Failed" and h.status["reason"] == "DeadlineExceeded"
    assert ("stop", "u1_app_0") in h.runtime.calls and "DeadlineExceeded" in h.recorder.reasons()


async def test_an_empty_dir_past_its_size_limit_evicts_the_pod(tmp_path: Path) -> None:
    h = harness(tmp_path)
    volumes = [
        {"name": "scratch", "emptyDir": {"sizeLimit": "1Mi"}},
        {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},  # tmpfs bounds itself
    ]
    pod = make_pod(container(), volumes=volumes)
    h.volumes.usage[("u1", "ram")] = 5 * 1024 * 1024
    h.volumes.usage[("u1", "scratch")] = 1024 * 1024
    await h.syncer.sync(pod)
    assert h.status["phase"] == "Running"  # exactly at the limit is allowed
    h.volumes.usage[("u1", "scratch")] = 1024 * 1024 + 1
    await h.syncer.sync(pod)
    message = 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". '
    assert (h.status["phase"], h.status["reason"], h.status["message"]) == ("Failed", "Evicted", message)
    assert ("stop", "u1_app_0") in h.runtime.calls and ("Warning", "Evicted", message) in h.recorder.events


async def test_graceful_deletion_runs_pre_stop_then_stops_tears_down_and_confirms(tmp_path: Path) -> None:
    h = harness(tmp_path)
    pod = make_pod(container(lifecycle={"preStop": {"exec": {"command": ["x"]}}}))
    await h.syncer.sync(pod)
    pod["metadata"].update(deletionTimestamp="2026-01-01T00:00:00Z", deletionGracePeriodSeconds=5)
    await h.syncer.terminate(pod)
    assert h.hooks[-1] == ("hook", "u1_app_0")
    assert h.runtime.calls[-3:] == [("stop", "u1_app_0"), ("remove", "u1_app_0"), ("remove_pod_cgroup", "u1")]
    assert h.volumes.calls[-1] == ("teardown", "u1") and h.network.calls[-1] == ("teardown", "u1")
    assert h.client.deletes == [
        ("web", {"namespace": "default", "grace_period_seconds": 0, "precondition_uid": "u1"})
    ]
    assert ("Normal", "Killing", "Stopping container app") in h.recorder.events
    assert "u1" not in h.syncer.records


async def test_running_containers_are_adopted_with_their_restart_count(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.runtime.containers["u1_app_2"] = ContainerState(
        "u1_app_2",
        "u1",
        "default",
        "web",
        "app",
        2,
        Status.RUNNING,
        "busybox:1.36",
        "sha256:c",
        1.0,
        started_at=1.0,
    )
    await h.syncer.sync(make_pod(container()))
    assert not h.runtime.specs and _state(h)["restartCount"] == 2
    assert _state(h)["state"] == {"running": {"startedAt": "1970-01-01T00:00:01Z"}}
    assert h.prober.watched == {"u1_app_2": "app"}
