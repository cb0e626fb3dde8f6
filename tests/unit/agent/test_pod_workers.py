"""PodWorkers with test doubles: leftovers of pods gone from the API are removed at start, adopted pods are
kept, force-deleted pods are cleaned up, probe verdicts reach the pod's status."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from kubelite.agent.network.types import Sandbox
from kubelite.agent.pods.probes import ProbeKey, ProbeKind, ProbeResult
from kubelite.agent.pods.workers import PodWorkers
from kubelite.agent.runtime.types import ContainerState, Status
from kubelite.client.controller import RequeueAfter
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from tests.unit.agent.pod_doubles import Harness, container, harness, make_pod


def _workers(h: Harness, tmp_path: Path) -> PodWorkers:
    client = cast(RestClient, h.client)
    return PodWorkers(InformerFactory(client), h.syncer, node_name="node-a")


def _running(uid: str, name: str = "app") -> ContainerState:
    return ContainerState(
        f"{uid}_{name}_0",
        uid,
        "default",
        "web",
        name,
        0,
        Status.RUNNING,
        "busybox",
        "sha256:c",
        1.0,
        started_at=1.0,
    )


def _bound(workers: PodWorkers, *pods: dict) -> None:
    for i, pod in enumerate(pods):
        pod["metadata"].update(resourceVersion=str(i + 1), name=f"web-{pod['metadata']['uid']}")
    workers._pods.replace(list(pods), "10")


async def test_start_adopts_bound_pods_and_removes_leftovers_of_gone_ones(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.runtime.containers = {s.container_id: s for s in (_running("kept"), _running("gone"))}
    h.network.sandboxes_ = {
        uid: Sandbox(uid, f"/run/netns/{uid}", ip)
        for uid, ip in (("kept", "10.42.0.7"), ("gone", "10.42.0.8"))
    }
    h.volumes.on_disk = {"kept", "gone", "stale"}
    workers = _workers(h, tmp_path)
    _bound(workers, make_pod(container(), uid="kept"))
    await workers.adopt()
    assert set(h.runtime.containers) == {"kept_app_0"}
    assert ("stop", "gone_app_0") in h.runtime.calls and ("remove_pod_cgroup", "stale") in h.runtime.calls
    assert set(h.network.sandboxes_) == {"kept"} and h.volumes.on_disk == {"kept"}
    with pytest.raises(RequeueAfter):
        await workers.reconcile("default/web-kept")
    assert not h.runtime.specs and h.status["podIP"] == "10.42.0.7"
    assert ("setup", "kept") not in h.network.calls


async def test_a_pod_that_vanished_from_the_api_is_cleaned_up(tmp_path: Path) -> None:
    h = harness(tmp_path)
    workers = _workers(h, tmp_path)
    pod = make_pod(container(), uid="u9")
    _bound(workers, pod)
    with pytest.raises(RequeueAfter):  # the periodic resync
        await workers.reconcile("default/web-u9")
    assert "u9_app_0" in h.runtime.containers
    _bound(workers)
    await workers.reconcile("default/web-u9")
    assert not h.runtime.containers and ("teardown", "u9") in h.network.calls
    assert "u9" not in h.syncer.records


async def test_probe_results_update_readiness_and_request_restarts(tmp_path: Path) -> None:
    h = harness(tmp_path)
    workers = _workers(h, tmp_path)
    pod = make_pod(container(readinessProbe={"exec": {"command": ["true"]}}), uid="u3")
    _bound(workers, pod)
    with pytest.raises(RequeueAfter):
        await workers.reconcile("default/web-u3")
    workers.probe_result(ProbeKey("u3", "app", ProbeKind.READINESS), ProbeResult("u3_app_0", True, True))
    workers.probe_result(
        ProbeKey("u3", "app", ProbeKind.LIVENESS),
        ProbeResult("u3_app_0", False, True, "Unhealthy", "Liveness probe failed: boom"),
    )
    record = h.syncer.records["u3"]
    assert record.ready == {"u3_app_0": True}
    assert record.liveness_failed == {"u3_app_0": "Container app failed liveness probe, will be restarted"}
    assert ("Warning", "Unhealthy", "Liveness probe failed: boom") in h.recorder.events
    assert len(workers.controller.queue) == 1
