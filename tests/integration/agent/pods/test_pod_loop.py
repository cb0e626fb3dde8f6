"""The pod loop with real containers: completion, crash loops, failures, graceful deletion, adoption."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.agent.pods.conftest import JSON, PODS, Agent


def busybox(*command: str, name: str = "app", **fields: Any) -> JSON:
    return {
        "name": name,
        "image": "busybox",
        "imagePullPolicy": "IfNotPresent",
        "command": list(command),
        **fields,
    }


def phase(*phases: str) -> Any:
    return lambda pod: (pod.get("status") or {}).get("phase") in phases


def app_status(pod: JSON) -> JSON:
    return next(iter((pod.get("status") or {}).get("containerStatuses") or [{}]))


async def test_echo_hi_succeeds_with_its_log(agent: Agent) -> None:
    await agent.create("hi", busybox("sh", "-c", "echo hi"), restartPolicy="Never")
    pod = await agent.wait_for("hi", phase("Succeeded"))
    status = app_status(pod)
    terminated = status["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
    assert status["containerID"].startswith("crun://")
    meta = pod["metadata"]
    log = agent.paths.container_log(agent.namespace, "hi", meta["uid"], "app", 0).read_text()
    assert log.rstrip().endswith("stdout F hi")
    assert pod["status"]["podIP"].startswith(agent.pod_cidr.rsplit(".", 1)[0])
    reasons = {event["reason"] for event in await agent.events()}
    assert {"Pulled", "Created", "Started"} <= reasons
    assert "Completed" in await agent.kubectl("get", "pod", "hi")


async def test_exit_3_fails_a_never_pod(agent: Agent) -> None:
    await agent.create("three", busybox("sh", "-c", "exit 3"), restartPolicy="Never")
    pod = await agent.wait_for("three", phase("Failed"))
    terminated = app_status(pod)["state"]["terminated"]
    assert terminated["exitCode"] == 3 and terminated["reason"] == "Error"


async def test_a_crash_loop_backs_off_longer_each_time(agent: Agent) -> None:
    await agent.create("crash", busybox("sh", "-c", "exit 1"))
    pod = await agent.wait_for("crash", lambda p: "back-off 2s" in str(app_status(p).get("state")))
    status = app_status(pod)
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["lastState"]["terminated"]["exitCode"] == 1 and status["restartCount"] == 2
    assert pod["status"]["phase"] == "Running"
    pod = await agent.wait_for("crash", lambda p: "back-off 4s" in str(app_status(p).get("state")))
    assert app_status(pod)["restartCount"] == 3
    assert "BackOff" in {event["reason"] for event in await agent.events()}
    assert "CrashLoopBackOff" in await agent.kubectl("get", "pod", "crash")


async def test_deleting_a_running_pod_stops_it_within_the_grace_period(agent: Agent) -> None:
    await agent.create("sleeper", busybox("sleep", "3600"))
    pod = await agent.wait_for("sleeper", lambda p: app_status(p).get("ready") is True)
    uid = pod["metadata"]["uid"]
    began = time.monotonic()
    await agent.client.delete(PODS, "sleeper", namespace=agent.namespace)
    await agent.gone("sleeper")
    assert time.monotonic() - began < 2 + 3  # grace 2 s: sleep ignores SIGTERM as PID 1
    assert agent.runtime is not None
    assert not [s for s in await agent.runtime.list() if s.pod_uid == uid]
    assert not [s for s in await agent.network().sandboxes() if s.pod_uid == uid]


async def test_a_restarted_agent_adopts_the_running_container(agent: Agent) -> None:
    await agent.create("long", busybox("sleep", "3600"))
    pod = await agent.wait_for("long", lambda p: app_status(p).get("ready") is True)
    container_id, ip = app_status(pod)["containerID"], pod["status"]["podIP"]
    await agent.stop()
    await agent.start()
    await agent.create("after", busybox("true"), restartPolicy="Never")
    await agent.wait_for("after", phase("Succeeded"))  # the new agent is working
    pod = await agent.get("long")
    status = app_status(pod)
    assert status["containerID"] == container_id and status["restartCount"] == 0
    assert "running" in status["state"] and pod["status"]["podIP"] == ip


async def test_init_containers_run_in_order_and_share_a_volume(agent: Agent) -> None:
    mount = {"volumeMounts": [{"name": "work", "mountPath": "/work"}]}
    await agent.create(
        "ordered",
        busybox("cat", "/work/log", **mount),
        initContainers=[
            busybox("sh", "-c", "echo one >> /work/log", name="one", **mount),
            busybox("sh", "-c", "echo two >> /work/log", name="two", **mount),
        ],
        volumes=[{"name": "work", "emptyDir": {}}],
        restartPolicy="Never",
    )
    pod = await agent.wait_for("ordered", phase("Succeeded"))
    assert [s["state"]["terminated"]["reason"] for s in pod["status"]["initContainerStatuses"]] == [
        "Completed",
        "Completed",
    ]
    log = agent.paths.container_log(agent.namespace, "ordered", pod["metadata"]["uid"], "app", 0).read_text()
    assert [line.split()[-1] for line in log.splitlines()] == ["one", "two"]


async def test_a_failing_liveness_probe_restarts_the_container(agent: Agent) -> None:
    probe = {"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 1}
    await agent.create("unwell", busybox("sleep", "3600", livenessProbe=probe))
    pod = await agent.wait_for("unwell", lambda p: app_status(p).get("restartCount", 0) >= 1)
    assert app_status(pod)["lastState"]["terminated"]["exitCode"] == 137
    reasons = {event["reason"] for event in await agent.events()}
    assert {"Unhealthy", "Killing"} <= reasons


async def test_active_deadline_fails_the_pod(agent: Agent) -> None:
    await agent.create("late", busybox("sleep", "3600"), activeDeadlineSeconds=1)
    pod = await agent.wait_for("late", phase("Failed"))
    assert pod["status"]["reason"] == "DeadlineExceeded"
    assert app_status(pod)["state"]["terminated"]["exitCode"] == 137
