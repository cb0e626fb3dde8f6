"""The scheduler binds pods through the real API server and the fake agent runs them."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from kubelite.client import errors, paths
from tests.integration.scheduler.conftest import Cluster, eventually

PODS = paths.resource("", "v1", "pods")


def pod_manifest(name: str, *, cpu: str = "100m", **spec: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "nginx:1.27", "resources": {"requests": {"cpu": cpu}}}
    return {"metadata": {"name": name, "namespace": "default"}, "spec": {"containers": [container], **spec}}


async def running(cluster: Cluster, name: str) -> dict[str, Any] | None:
    pod = await cluster.client.get(PODS, name, namespace="default")
    return pod if (pod.get("status") or {}).get("phase") == "Running" else None


async def test_pods_are_bound_and_run(cluster: Cluster) -> None:
    await cluster.start_agent(nodes=3)
    scheduler = cluster.start_scheduler()
    for i in range(6):
        await cluster.client.create(PODS, pod_manifest(f"web-{i}"))
    pods = [await eventually(lambda i=i: running(cluster, f"web-{i}")) for i in range(6)]
    assert {p["spec"]["nodeName"] for p in pods} == {"fake-node-0", "fake-node-1", "fake-node-2"}
    first = pods[0]["status"]
    assert first["podIP"].startswith("10.42.")
    assert first["hostIP"] == "127.0.0.1"
    assert {c["type"]: c["status"] for c in first["conditions"]}.items() >= {
        "PodScheduled": "True",
        "Initialized": "True",
        "ContainersReady": "True",
        "Ready": "True",
    }.items()
    container = first["containerStatuses"][0]
    assert container["ready"] and container["started"] and "running" in container["state"]
    assert container["containerID"].startswith("fake://")
    assert scheduler.bound == 6


async def test_node_selector_taints_and_resources_are_respected(cluster: Cluster) -> None:
    await cluster.start_agent(
        nodes=1, node_name_prefix="small", capacity={"cpu": "1", "memory": "1Gi", "pods": "10"}
    )
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    await cluster.start_agent(nodes=1, node_name_prefix="gpu", labels={"accelerator": "yes"}, taints=(taint,))
    cluster.start_scheduler()
    await cluster.client.create(PODS, pod_manifest("fits", cpu="600m"))
    toleration = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    await cluster.client.create(
        PODS, pod_manifest("needs-gpu", nodeSelector={"accelerator": "yes"}, tolerations=toleration)
    )
    assert (await eventually(lambda: running(cluster, "fits")))["spec"]["nodeName"] == "small-0"
    assert (await eventually(lambda: running(cluster, "needs-gpu")))["spec"]["nodeName"] == "gpu-0"
    # small-0 has 400m left; gpu-0 is tainted: nowhere to go.
    await cluster.client.create(PODS, pod_manifest("too-big", cpu="600m"))
    pod = await eventually(lambda: scheduled_false(cluster, "too-big"))
    assert "nodeName" not in pod["spec"]
    assert pod_condition(pod)["message"] == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling."
    )


def pod_condition(pod: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in pod["status"].get("conditions") or () if c["type"] == "PodScheduled")


async def scheduled_false(cluster: Cluster, name: str) -> dict[str, Any] | None:
    pod = await cluster.client.get(PODS, name, namespace="default")
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return pod if any(c["type"] == "PodScheduled" and c["status"] == "False" for c in conditions) else None


async def test_unschedulable_pod_reports_why_then_schedules_on_a_new_node(cluster: Cluster) -> None:
    await cluster.start_agent(nodes=2)
    cluster.start_scheduler()
    await cluster.client.create(PODS, pod_manifest("picky", nodeSelector={"disk": "ssd"}))
    pod = await eventually(lambda: scheduled_false(cluster, "picky"))
    message = (
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )
    assert pod_condition(pod)["reason"] == "Unschedulable"
    assert pod_condition(pod)["message"] == message

    async def described() -> str | None:
        proc = await asyncio.to_thread(cluster.server.kubectl, "describe", "pod", "picky")
        return proc.stdout if "FailedScheduling" in proc.stdout else None

    out = await eventually(described)
    assert "Warning  FailedScheduling" in out
    assert message in out
    assert re.search(r"^Status:\s+Pending$", out, re.MULTILINE)

    await cluster.start_agent(nodes=1, node_name_prefix="ssd", labels={"disk": "ssd"})
    assert (await eventually(lambda: running(cluster, "picky")))["spec"]["nodeName"] == "ssd-0"


async def test_deleting_a_bound_pod_completes_through_the_agent(cluster: Cluster) -> None:
    await cluster.start_agent(nodes=1)
    cluster.start_scheduler()
    await cluster.client.create(PODS, pod_manifest("doomed"))
    await eventually(lambda: running(cluster, "doomed"))
    await cluster.client.delete(PODS, "doomed", namespace="default")

    async def gone() -> bool:
        try:
            await cluster.client.get(PODS, "doomed", namespace="default")
        except errors.NotFound:
            return True
        return False

    await eventually(gone, within=10)


async def test_job_pods_finish_with_the_exit_code_asked_for(cluster: Cluster) -> None:
    await cluster.start_agent(nodes=1, job_duration=0.2)
    cluster.start_scheduler()
    await cluster.client.create(PODS, pod_manifest("ok", restartPolicy="Never"))
    failing = pod_manifest("fails", restartPolicy="Never")
    failing["metadata"]["annotations"] = {"kubelite.io/fake-exit-code": "3"}
    await cluster.client.create(PODS, failing)

    async def phase(name: str, wanted: str) -> dict[str, Any] | None:
        pod = await cluster.client.get(PODS, name, namespace="default")
        return pod if pod["status"].get("phase") == wanted else None

    done = await eventually(lambda: phase("ok", "Succeeded"))
    assert done["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    failed = await eventually(lambda: phase("fails", "Failed"))
    terminated = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")


async def test_pods_for_another_scheduler_or_already_placed_are_left_alone(cluster: Cluster) -> None:
    await cluster.start_agent(nodes=1)
    scheduler = cluster.start_scheduler()
    await cluster.client.create(PODS, pod_manifest("other", schedulerName="someone-else"))
    await cluster.client.create(PODS, pod_manifest("placed", nodeName="fake-node-0"))
    await eventually(lambda: running(cluster, "placed"))
    await asyncio.sleep(0.5)
    other = await cluster.client.get(PODS, "other", namespace="default")
    assert "nodeName" not in other["spec"] and scheduler.bound == 0
