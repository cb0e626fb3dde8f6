"""The Job controller's reconcile against an in-memory client: pods, accounting, back-off, limits, endings."""

from __future__ import annotations

from typing import Any

from kubelite.client.controller import RequeueAfter
from kubelite.controllers import jobpods
from kubelite.controllers.job import JOBS, PODS, JobController
from tests.support.fakeclient import FakeRecorder, JsonPatchingFakeClient, make_context
from tests.support.fakeclock import FakeClock

KEY = "default/work"


def job(**spec: Any) -> dict[str, Any]:
    base = {
        "parallelism": 1,
        "completions": 1,
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": False,
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "job-uid"}},
        "template": {
            "metadata": {"labels": {"batch.kubernetes.io/controller-uid": "job-uid"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]},
        },
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "work", "namespace": "default", "uid": "job-uid"},
        "spec": {**base, **spec},
    }


class Harness:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.fake = JsonPatchingFakeClient()
        self.clock = FakeClock()
        self.events = FakeRecorder()
        ctx = make_context(self.fake)
        ctx.recorders["job-controller"] = self.events  # type: ignore[assignment]
        self.ctl = JobController(ctx, clock=self.clock, backoff_base=10.0)
        self.fake.add(JOBS, spec)

    async def settle(self, rounds: int = 6) -> float | None:
        """Reconcile until nothing changes; returns the last requested requeue delay."""
        delay = None
        for _ in range(rounds):
            self.fake.sync(self.ctl.jobs, self.ctl.pods)
            before = len(self.fake.actions)
            try:
                await self.ctl.reconcile(KEY)
                delay = None
            except RequeueAfter as request:
                delay = request.delay
            if len(self.fake.actions) == before:
                break
        self.fake.sync(self.ctl.jobs, self.ctl.pods)
        return delay

    def pods(self) -> list[dict[str, Any]]:
        return self.fake.items(PODS, "default")

    def live_pods(self) -> list[dict[str, Any]]:
        return [p for p in self.pods() if jobpods.outcome(p) is None]

    def finish(self, pod: dict[str, Any], phase: str) -> None:
        stored = self.fake.objects[("pods", "default", pod["metadata"]["name"])]
        stored["status"] = {"phase": phase}
        stored["metadata"]["resourceVersion"] = str(int(stored["metadata"]["resourceVersion"]) + 1000)

    def set_suspend(self, suspend: bool) -> None:
        stored = self.fake.objects[("jobs", "default", "work")]
        stored["spec"]["suspend"] = suspend
        self.fake.add(JOBS, stored)  # stored again: a new resourceVersion

    def job(self) -> dict[str, Any]:
        found = self.fake.stored(JOBS, "work", "default")
        assert found is not None
        return found

    def conditions(self) -> dict[str, str]:
        return {
            c["type"]: c["reason"]
            for c in self.job()["status"].get("conditions", [])
            if c["status"] == "True"
        }


async def test_creates_parallelism_pods_with_tracking_finalizer_and_owner() -> None:
    h = Harness(job(parallelism=3, completions=5))
    await h.settle()
    pods = h.pods()
    assert len(pods) == 3
    for pod in pods:
        assert jobpods.TRACKING_FINALIZER in pod["metadata"]["finalizers"]
        owner = pod["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["uid"], owner["controller"]) == ("Job", "job-uid", True)
        assert pod["metadata"]["name"].startswith("work-")
    assert h.events.reasons().count("SuccessfulCreate") == 3
    assert h.job()["status"]["active"] == 3
    assert "startTime" in h.job()["status"]


async def test_failed_pod_is_counted_once_then_retried_after_backoff_then_completes() -> None:
    h = Harness(job())
    await h.settle()
    [first] = h.pods()
    h.finish(first, "Failed")
    delay = await h.settle()
    status = h.job()["status"]
    assert status["failed"] == 1 and status["uncountedTerminatedPods"] == {}
    assert not h.fake.objects[("pods", "default", first["metadata"]["name"])]["metadata"].get("finalizers")
    assert h.live_pods() == [] and delay is not None and 9 < delay <= 10  # waiting out the 10 s back-off
    h.clock.advance(10)
    await h.settle()
    [second] = h.live_pods()
    h.finish(second, "Succeeded")
    await h.settle()
    status = h.job()["status"]
    assert (status["failed"], status["succeeded"], status.get("active")) == (1, 1, None)
    assert h.conditions() == {"SuccessCriteriaMet": "CompletionsReached", "Complete": "CompletionsReached"}
    assert "completionTime" in status
    assert ("Completed", "Job completed", "Normal", "work") in h.events.events


async def test_backoff_doubles_with_each_failure() -> None:
    h = Harness(job(backoffLimit=5))
    await h.settle()
    for failures, wait in ((1, 10), (2, 20), (3, 40)):
        [pod] = h.live_pods()
        h.finish(pod, "Failed")
        delay = await h.settle()
        assert h.job()["status"]["failed"] == failures
        assert delay is not None and wait - 1 < delay <= wait
        h.clock.advance(wait)
        await h.settle()


async def test_backoff_counts_only_the_failures_since_the_last_success() -> None:
    h = Harness(job(backoffLimit=6, completions=2))
    await h.settle()
    for wait in (10, 20):  # two failures in a row: 10 s, then 20 s
        [pod] = h.live_pods()
        h.finish(pod, "Failed")
        delay = await h.settle()
        assert delay is not None and wait - 1 < delay <= wait
        h.clock.advance(wait)
        await h.settle()
    [pod] = h.live_pods()
    h.finish(pod, "Succeeded")
    await h.settle()
    [pod] = h.live_pods()
    h.finish(pod, "Failed")
    delay = await h.settle()
    assert h.job()["status"]["failed"] == 3
    assert delay is not None and 9 < delay <= 10  # the first failure after a success: back to 10 s


async def test_backoff_limit_exceeded_fails_the_job() -> None:
    h = Harness(job(backoffLimit=0))
    await h.settle()
    [pod] = h.pods()
    h.finish(pod, "Failed")
    await h.settle()
    assert h.conditions() == {
        "FailureTarget": "BackoffLimitExceeded",
        "Failed": "BackoffLimitExceeded",
    }
    assert (
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
        "Warning",
        "work",
    ) in h.events.events
    assert h.live_pods() == []


async def test_active_deadline_ends_running_pods() -> None:
    h = Harness(job(activeDeadlineSeconds=30, parallelism=2, completions=2))
    delay = await h.settle()
    assert len(h.live_pods()) == 2 and delay is not None and 29 < delay <= 31
    h.clock.advance(30)
    await h.settle()
    assert h.conditions() == {"FailureTarget": "DeadlineExceeded", "Failed": "DeadlineExceeded"}
    assert h.pods() == []  # deleted, finalizers released, not counted as failures
    assert h.job()["status"].get("failed", 0) == 0


async def test_indexed_job_runs_one_pod_per_index_and_tracks_completed_indexes() -> None:
    h = Harness(job(completionMode="Indexed", completions=3, parallelism=2))
    await h.settle()
    pods = {jobpods.completion_index(p): p for p in h.pods()}
    assert sorted(pods) == [0, 1]
    pod = pods[1]
    assert pod["metadata"]["labels"][jobpods.COMPLETION_INDEX] == "1"
    assert pod["spec"]["hostname"] == "work-1"
    assert pod["metadata"]["generateName"] == "work-1-"
    env = pod["spec"]["containers"][0]["env"][0]
    assert env["name"] == "JOB_COMPLETION_INDEX"
    h.finish(pod, "Succeeded")
    await h.settle()
    assert h.job()["status"]["completedIndexes"] == "1"
    assert sorted(jobpods.completion_index(p) for p in h.live_pods()) == [0, 2]
    for live in h.live_pods():
        h.finish(live, "Succeeded")
    await h.settle()
    status = h.job()["status"]
    assert status["completedIndexes"] == "0-2" and status["succeeded"] == 3
    assert "Complete" in h.conditions()


async def test_suspend_deletes_pods_and_resume_starts_again() -> None:
    h = Harness(job(parallelism=2, completions=2))
    await h.settle()
    h.set_suspend(True)
    await h.settle()
    assert h.pods() == []
    assert h.conditions() == {"Suspended": "JobSuspended"}
    assert h.job()["status"].get("failed", 0) == 0
    h.set_suspend(False)
    await h.settle()
    assert len(h.live_pods()) == 2
    assert "Resumed" in h.events.reasons()


async def test_ttl_after_finished_deletes_the_job() -> None:
    h = Harness(job(ttlSecondsAfterFinished=60))
    await h.settle()
    [pod] = h.pods()
    h.finish(pod, "Succeeded")
    delay = await h.settle()
    assert delay is not None and 59 < delay <= 60
    h.clock.advance(60)
    await h.settle()
    assert h.fake.stored(JOBS, "work", "default") is None
    [deletion] = h.fake.writes("delete", "jobs")
    assert deletion.body["propagation_policy"] == "Background"


def test_completed_indexes_format_round_trips() -> None:
    assert jobpods.format_indexes([7, 1, 3, 4, 5]) == "1,3-5,7"
    assert jobpods.parse_indexes("1,3-5,7") == {1, 3, 4, 5, 7}
    assert jobpods.format_indexes([]) == ""


def exited(pod: dict[str, Any], code: int) -> None:
    pod["status"] = {
        "phase": "Failed",
        "containerStatuses": [{"name": "main", "state": {"terminated": {"exitCode": code}}}],
    }


FAILURE_POLICY = {
    "rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
    ]
}


async def test_pod_failure_policy_fail_job_on_exit_code() -> None:
    h = Harness(job(backoffLimit=6, podFailurePolicy=FAILURE_POLICY))
    await h.settle()
    [pod] = h.pods()
    stored = h.fake.objects[("pods", "default", pod["metadata"]["name"])]
    exited(stored, 42)
    h.fake.add(PODS, stored)
    await h.settle()
    assert h.conditions() == {"FailureTarget": "PodFailurePolicy", "Failed": "PodFailurePolicy"}
    [failed] = [c for c in h.job()["status"]["conditions"] if c["type"] == "Failed"]
    assert failed["message"] == (
        f"Container main for pod default/{pod['metadata']['name']} failed with exit code 42 "
        "matching FailJob rule at index 0"
    )
    assert h.job()["status"]["failed"] == 1


async def test_pod_failure_policy_ignores_disrupted_pods() -> None:
    h = Harness(job(backoffLimit=0, podFailurePolicy=FAILURE_POLICY))
    await h.settle()
    [pod] = h.pods()
    stored = h.fake.objects[("pods", "default", pod["metadata"]["name"])]
    exited(stored, 1)
    stored["status"]["conditions"] = [{"type": "DisruptionTarget", "status": "True"}]
    h.fake.add(PODS, stored)
    await h.settle()
    assert h.job()["status"].get("failed", 0) == 0 and h.conditions() == {}
    assert not h.fake.objects[("pods", "default", pod["metadata"]["name"])]["metadata"].get("finalizers")
    assert len(h.live_pods()) == 1  # replaced at once: an ignored failure starts no back-off


def orphan(name: str, labels: dict[str, str], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels, **meta},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }


async def test_matching_orphans_are_adopted_with_the_tracking_finalizer_and_counted() -> None:
    h = Harness(job(completions=2, parallelism=2))
    labels = {"batch.kubernetes.io/controller-uid": "job-uid"}
    h.fake.add(PODS, orphan("stray", labels, finalizers=["example.com/keep"]))
    h.fake.add(PODS, orphan("other", {"app": "unrelated"}))
    h.fake.add(
        PODS,
        orphan(
            "owned",
            labels,
            ownerReferences=[
                {
                    "kind": "ReplicaSet",
                    "name": "rs",
                    "uid": "rs-uid",
                    "apiVersion": "apps/v1",
                    "controller": True,
                }
            ],
        ),
    )
    await h.settle()
    stray = h.fake.objects[("pods", "default", "stray")]
    [ref] = stray["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["uid"], ref["controller"]) == ("Job", "job-uid", True)
    assert stray["metadata"]["finalizers"] == ["example.com/keep", jobpods.TRACKING_FINALIZER]
    assert "ownerReferences" not in h.fake.objects[("pods", "default", "other")]["metadata"]
    assert (
        h.fake.objects[("pods", "default", "owned")]["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    )
    mine = [
        p for p in h.live_pods() if (p["metadata"].get("ownerReferences") or [{}])[0].get("uid") == "job-uid"
    ]
    assert len(mine) == 2  # the adopted pod stands for one of the two wanted
    h.finish(stray, "Succeeded")
    await h.settle()
    assert h.job()["status"]["succeeded"] == 1
    assert h.fake.objects[("pods", "default", "stray")]["metadata"]["finalizers"] == ["example.com/keep"]


async def test_pods_whose_labels_stop_matching_are_released_and_replaced() -> None:
    h = Harness(job())
    await h.settle()
    [pod] = h.pods()
    stored = h.fake.objects[("pods", "default", pod["metadata"]["name"])]
    stored["metadata"]["labels"] = {"debug": "me"}
    h.fake.add(PODS, stored)
    await h.settle()
    released = h.fake.objects[("pods", "default", pod["metadata"]["name"])]["metadata"]
    assert not released.get("ownerReferences") and not released.get("finalizers")
    [replacement] = [p for p in h.live_pods() if p["metadata"]["name"] != pod["metadata"]["name"]]
    assert replacement["metadata"]["ownerReferences"][0]["uid"] == "job-uid"
    assert h.job()["status"].get("failed", 0) == 0


async def test_a_selector_that_cannot_be_read_releases_nothing() -> None:
    h = Harness(job())
    await h.settle()
    [pod] = h.pods()
    stored = h.fake.objects[("jobs", "default", "work")]
    stored["spec"]["selector"] = {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}
    h.fake.add(JOBS, stored)
    await h.settle()
    kept = h.fake.objects[("pods", "default", pod["metadata"]["name"])]["metadata"]
    assert kept["ownerReferences"][0]["uid"] == "job-uid" and kept.get("finalizers")


async def test_a_job_being_deleted_adopts_nothing() -> None:
    h = Harness(job())
    h.fake.objects[("jobs", "default", "work")]["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    h.fake.add(PODS, orphan("stray", {"batch.kubernetes.io/controller-uid": "job-uid"}))
    await h.settle()
    assert "ownerReferences" not in h.fake.objects[("pods", "default", "stray")]["metadata"]
