"""CronJobs against the real API server with a fake clock: firing, concurrency policies, history limits."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest

from kubelite.controllers.cronjob import CronJobController
from kubelite.controllers.job import JobController
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.inprocess import nudge, running
from tests.integration.controllers.workloads import NODE, get_json, wait_for
from tests.support.fakeclock import FakeClock


class Cluster:
    def __init__(self, server: RunningServer, clock: FakeClock, cronjobs: CronJobController) -> None:
        self.server, self.clock, self.cronjobs = server, clock, cronjobs

    def create(self, name: str, *, policy: str, node: str = NODE, **spec: Any) -> None:
        manifest = {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": name},
            "spec": {
                "schedule": "* * * * *",
                "concurrencyPolicy": policy,
                **spec,
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "nodeName": node,
                                "restartPolicy": "Never",
                                "containers": [{"name": "main", "image": "busybox"}],
                            }
                        }
                    }
                },
            },
        }
        self.server.kubectl("apply", "-f", "-", input=json.dumps(manifest))
        created = get_json(self.server, "cronjob", name)["metadata"]["creationTimestamp"]
        self.clock.current = datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))

    def next_minute(self, name: str) -> int:
        """Move the clock just past the next whole minute, wake the controller; returns that minute."""
        minute = int(self.clock.current.timestamp()) // 60 + 1
        self.clock.current = datetime.datetime.fromtimestamp(minute * 60 + 1, datetime.UTC)
        nudge(self.server, self.cronjobs, f"default/{name}")
        return minute

    def jobs(self) -> list[str]:
        return sorted(j["metadata"]["name"] for j in get_json(self.server, "jobs")["items"])


@pytest.fixture
def cluster(apiserver: RunningServer) -> Iterator[Cluster]:
    clock = FakeClock()

    def build(ctx: Any) -> list[Any]:
        return [CronJobController(ctx, clock=clock), JobController(ctx, backoff_base=0.2)]

    with running(apiserver, build) as started:
        yield Cluster(apiserver, clock, started.controllers[0])


def reasons(server: RunningServer, name: str) -> list[str]:
    items = get_json(server, "events", "--field-selector", f"involvedObject.name={name}")["items"]
    return [e["reason"] for e in items]


def test_fires_each_minute_and_keeps_the_history_short(cluster: Cluster) -> None:
    cluster.create("tick", policy="Allow", successfulJobsHistoryLimit=1)
    assert cluster.jobs() == []
    first = cluster.next_minute("tick")
    wait_for(lambda: cluster.jobs() == [f"tick-{first}"], what="the first job")
    job = get_json(cluster.server, "job", f"tick-{first}")
    stamp = datetime.datetime.fromtimestamp(first * 60, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == stamp
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    wait_for(
        lambda: get_json(cluster.server, "cronjob", "tick").get("status", {}).get("lastSuccessfulTime"),
        what="lastSuccessfulTime",
    )
    second = cluster.next_minute("tick")
    wait_for(
        lambda: cluster.jobs() == [f"tick-{second}"], what="the first job trimmed after the second finished"
    )
    status = get_json(cluster.server, "cronjob", "tick")["status"]
    assert status["lastScheduleTime"] == datetime.datetime.fromtimestamp(second * 60, datetime.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    wait_for(
        lambda: (
            {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"}
            <= set(reasons(cluster.server, "tick"))
        ),
        what="events",
    )


def test_forbid_waits_for_the_running_job(cluster: Cluster) -> None:
    cluster.create("solo", policy="Forbid", node="nowhere")  # its pods never run: the job never ends
    first = cluster.next_minute("solo")
    wait_for(lambda: cluster.jobs() == [f"solo-{first}"], what="the first job")
    wait_for(
        lambda: get_json(cluster.server, "cronjob", "solo").get("status", {}).get("active"),
        what="status.active",
    )
    cluster.next_minute("solo")
    wait_for(lambda: "JobAlreadyActive" in reasons(cluster.server, "solo"), what="the JobAlreadyActive event")
    assert cluster.jobs() == [f"solo-{first}"]


def test_replace_swaps_the_running_job(cluster: Cluster) -> None:
    cluster.create("swap", policy="Replace", node="nowhere")
    first = cluster.next_minute("swap")
    wait_for(lambda: cluster.jobs() == [f"swap-{first}"], what="the first job")
    wait_for(
        lambda: get_json(cluster.server, "cronjob", "swap").get("status", {}).get("active"),
        what="status.active",
    )
    second = cluster.next_minute("swap")
    wait_for(lambda: cluster.jobs() == [f"swap-{second}"], what="the first job replaced by the second")
    active = get_json(cluster.server, "cronjob", "swap")["status"]["active"]
    assert [ref["name"] for ref in active] == [f"swap-{second}"]
