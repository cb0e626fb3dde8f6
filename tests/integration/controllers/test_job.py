"""Jobs against the real API server: pods run by fake nodes (or driven through pods/status), retries,
backoffLimit, Indexed completion and TTL cleanup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from kubelite.controllers.job import JobController
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.inprocess import running
from tests.integration.controllers.workloads import NODE, get_json, wait_for


@pytest.fixture
def cluster(apiserver: RunningServer) -> Iterator[RunningServer]:
    with running(apiserver, lambda ctx: [JobController(ctx, backoff_base=0.2, backoff_cap=1.0)]):
        yield apiserver


def job_manifest(name: str, *, node: str = NODE, exit_code: int = 0, **spec: Any) -> str:
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            **spec,
            "template": {
                "metadata": {"annotations": {"kubelite.io/fake-exit-code": str(exit_code)}},
                "spec": {
                    "nodeName": node,
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox", "command": ["true"]}],
                },
            },
        },
    }
    return json.dumps(manifest)


def condition_types(job: dict[str, Any]) -> dict[str, str]:
    return {
        c["type"]: c["reason"] for c in job.get("status", {}).get("conditions", []) if c["status"] == "True"
    }


def finished(server: RunningServer, name: str) -> dict[str, Any] | None:
    job = get_json(server, "job", name)
    kinds = condition_types(job)
    return job if "Complete" in kinds or "Failed" in kinds else None


def job_pods(server: RunningServer, name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = get_json(server, "pods", "-l", f"batch.kubernetes.io/job-name={name}")[
        "items"
    ]
    return items


def events(server: RunningServer, name: str) -> list[tuple[str, str]]:
    items = get_json(server, "events", "--field-selector", f"involvedObject.name={name}")["items"]
    return [(e["reason"], e["message"]) for e in items]


def test_job_runs_pods_to_completion(cluster: RunningServer) -> None:
    cluster.kubectl("apply", "-f", "-", input=job_manifest("ok", completions=3, parallelism=2))
    job = wait_for(lambda: finished(cluster, "ok"), what="the job to finish")
    status = job["status"]
    assert condition_types(job) == {
        "SuccessCriteriaMet": "CompletionsReached",
        "Complete": "CompletionsReached",
    }
    # Shaped as upstream's: zero counters left out, except ready and terminating.
    assert status["succeeded"] == 3 and "failed" not in status and "active" not in status
    assert (status["ready"], status["terminating"], status["uncountedTerminatedPods"]) == (0, 0, {})
    assert status["startTime"] <= status["completionTime"]
    for pod in job_pods(cluster, "ok"):
        assert "batch.kubernetes.io/job-tracking" not in (pod["metadata"].get("finalizers") or [])
    wait_for(lambda: ("Completed", "Job completed") in events(cluster, "ok"), what="the Completed event")
    assert any(reason == "SuccessfulCreate" for reason, _ in events(cluster, "ok"))


def test_job_fails_at_backoff_limit(cluster: RunningServer) -> None:
    cluster.kubectl("apply", "-f", "-", input=job_manifest("doomed", exit_code=1, backoffLimit=2))
    job = wait_for(lambda: finished(cluster, "doomed"), what="the job to fail")
    assert condition_types(job) == {"FailureTarget": "BackoffLimitExceeded", "Failed": "BackoffLimitExceeded"}
    assert job["status"]["failed"] == 3  # the first try and two retries
    assert len(job_pods(cluster, "doomed")) == 3
    wait_for(
        lambda: (
            ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
            in events(cluster, "doomed")
        ),
        what="the BackoffLimitExceeded event",
    )


def set_phase(server: RunningServer, pod: str, phase: str) -> None:
    patch = json.dumps({"status": {"phase": phase}})
    server.kubectl("patch", "pod", pod, "--subresource=status", "--type=merge", "-p", patch)


def test_job_retries_a_failed_pod_then_completes(cluster: RunningServer) -> None:
    # Bound to a node nobody simulates: the test plays the kubelet through pods/status.
    cluster.kubectl("apply", "-f", "-", input=job_manifest("retry", node="nowhere", backoffLimit=3))
    [first] = wait_for(lambda: job_pods(cluster, "retry"), what="the first pod")
    set_phase(cluster, first["metadata"]["name"], "Failed")
    second = wait_for(
        lambda: [p for p in job_pods(cluster, "retry") if p["metadata"]["name"] != first["metadata"]["name"]],
        what="a replacement pod",
    )[0]
    assert get_json(cluster, "job", "retry")["status"]["failed"] == 1
    set_phase(cluster, second["metadata"]["name"], "Succeeded")
    job = wait_for(lambda: finished(cluster, "retry"), what="the job to complete")
    assert "Complete" in condition_types(job)
    assert (job["status"]["failed"], job["status"]["succeeded"]) == (1, 1)


def test_indexed_job_completes_every_index(cluster: RunningServer) -> None:
    manifest = job_manifest("indexed", completionMode="Indexed", completions=3, parallelism=3)
    cluster.kubectl("apply", "-f", "-", input=manifest)
    job = wait_for(lambda: finished(cluster, "indexed"), what="the indexed job to finish")
    assert job["status"]["completedIndexes"] == "0-2" and job["status"]["succeeded"] == 3
    pods = job_pods(cluster, "indexed")
    indexes = sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for p in pods)
    assert indexes == ["0", "1", "2"]
    assert {p["spec"]["hostname"] for p in pods} == {"indexed-0", "indexed-1", "indexed-2"}


def test_finished_job_is_deleted_after_its_ttl(cluster: RunningServer) -> None:
    # Long enough to see the job finished before it goes, even when a kubectl call takes a second under load.
    cluster.kubectl("apply", "-f", "-", input=job_manifest("brief", ttlSecondsAfterFinished=4))
    wait_for(lambda: finished(cluster, "brief"), what="the job to finish")
    wait_for(
        lambda: cluster.kubectl("get", "job", "brief", check=False).returncode != 0,
        what="the job to be deleted",
    )


def test_pod_failure_policy_fails_the_job_on_an_exit_code(cluster: RunningServer) -> None:
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    cluster.kubectl(
        "apply", "-f", "-", input=job_manifest("fatal", exit_code=42, backoffLimit=6, podFailurePolicy=policy)
    )
    job = wait_for(lambda: finished(cluster, "fatal"), what="the job to fail")
    assert condition_types(job) == {"FailureTarget": "PodFailurePolicy", "Failed": "PodFailurePolicy"}
    assert job["status"]["failed"] == 1
    [condition] = [c for c in job["status"]["conditions"] if c["type"] == "Failed"]
    assert "failed with exit code 42 matching FailJob rule at index 0" in condition["message"]


def test_backoff_limit_per_index_fails_indexes_then_the_job(cluster: RunningServer) -> None:
    manifest = job_manifest(
        "perindex",
        exit_code=1,
        completionMode="Indexed",
        completions=2,
        parallelism=2,
        backoffLimitPerIndex=1,
    )
    cluster.kubectl("apply", "-f", "-", input=manifest)
    job = wait_for(lambda: finished(cluster, "perindex"), what="the job to fail")
    assert condition_types(job) == {"FailureTarget": "FailedIndexes", "Failed": "FailedIndexes"}
    assert (job["status"]["failedIndexes"], job["status"]["failed"]) == ("0-1", 4)
    assert job["spec"]["backoffLimit"] == 2**31 - 1  # defaulted so that only the per-index limit counts
    counts = sorted(
        (
            p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"],
            p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"],
        )
        for p in job_pods(cluster, "perindex")
    )
    assert counts == [("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")]


def test_max_failed_indexes_fails_the_job_at_the_first_failed_index(cluster: RunningServer) -> None:
    manifest = job_manifest(
        "fragile",
        node="nowhere",
        completionMode="Indexed",
        completions=3,
        parallelism=3,
        backoffLimitPerIndex=0,
        maxFailedIndexes=0,
    )
    cluster.kubectl("apply", "-f", "-", input=manifest)
    pods = wait_for(
        lambda: len(job_pods(cluster, "fragile")) == 3 and job_pods(cluster, "fragile"), what="3 pods"
    )
    set_phase(cluster, pods[0]["metadata"]["name"], "Failed")
    job = wait_for(lambda: finished(cluster, "fragile"), what="the job to fail")
    assert condition_types(job) == {
        "FailureTarget": "MaxFailedIndexesExceeded",
        "Failed": "MaxFailedIndexesExceeded",
    }
    assert (
        job["status"]["failedIndexes"]
        == pods[0]["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
    )


def test_invalid_per_index_and_success_policies_are_rejected(cluster: RunningServer) -> None:
    manifest = job_manifest("bad", maxFailedIndexes=1, successPolicy={"rules": [{"succeededCount": 1}]})
    result = cluster.kubectl("apply", "-f", "-", input=manifest, check=False)
    assert result.returncode != 0
    assert "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified" in result.stderr
    assert "spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode" in result.stderr
    assert "requires indexed completion mode" in result.stderr.split("spec.successPolicy:")[1]


def test_success_policy_completes_the_job_early(cluster: RunningServer) -> None:
    manifest = job_manifest(
        "leader",
        node="nowhere",
        completionMode="Indexed",
        completions=3,
        parallelism=3,
        successPolicy={"rules": [{"succeededIndexes": "0"}]},
    )
    cluster.kubectl("apply", "-f", "-", input=manifest)
    pods = wait_for(
        lambda: len(job_pods(cluster, "leader")) == 3 and job_pods(cluster, "leader"), what="3 pods"
    )
    [leader] = [
        p for p in pods if p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == "0"
    ]
    set_phase(cluster, leader["metadata"]["name"], "Succeeded")
    job = wait_for(lambda: finished(cluster, "leader"), what="the job to complete")
    assert condition_types(job) == {"SuccessCriteriaMet": "SuccessPolicy", "Complete": "SuccessPolicy"}
    [complete] = [c for c in job["status"]["conditions"] if c["type"] == "Complete"]
    assert complete["message"] == "Matched rules at index 0"
    assert (job["status"]["completedIndexes"], job["status"]["succeeded"]) == ("0", 1)
    assert "failed" not in job["status"]  # the other indexes were ended, not failed
    others = [p for p in job_pods(cluster, "leader") if p["metadata"]["name"] != leader["metadata"]["name"]]
    assert all(p["metadata"].get("deletionTimestamp") for p in others)


def test_orphans_are_adopted_and_pods_that_stop_matching_released(cluster: RunningServer) -> None:
    orphan = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "stray", "labels": {"app": "batch"}},
        "spec": {
            "nodeName": "nowhere",
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox"}],
        },
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(orphan))
    manifest = json.loads(job_manifest("adopter", node="nowhere", manualSelector=True))
    manifest["spec"]["selector"] = {"matchLabels": {"app": "batch"}}
    manifest["spec"]["template"]["metadata"]["labels"] = {"app": "batch"}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))

    def adopted() -> dict[str, Any] | None:
        pod: dict[str, Any] = get_json(cluster, "pod", "stray")
        refs = pod["metadata"].get("ownerReferences") or []
        return pod if refs and refs[0]["kind"] == "Job" and refs[0]["name"] == "adopter" else None

    pod = wait_for(adopted, what="the orphan to be adopted")
    assert "batch.kubernetes.io/job-tracking" in pod["metadata"]["finalizers"]
    assert (
        get_json(cluster, "job", "adopter")["status"].get("active") == 1
    )  # it stands for the one pod wanted
    cluster.kubectl("label", "pod", "stray", "app=elsewhere", "--overwrite")

    def released() -> dict[str, Any] | None:
        pod: dict[str, Any] = get_json(cluster, "pod", "stray")
        return None if pod["metadata"].get("ownerReferences") else pod

    pod = wait_for(released, what="the pod to be released")
    assert not pod["metadata"].get("finalizers")
    replacement = wait_for(
        lambda: get_json(cluster, "pods", "-l", "app=batch")["items"], what="a replacement"
    )[0]
    set_phase(cluster, replacement["metadata"]["name"], "Succeeded")
    job = wait_for(lambda: finished(cluster, "adopter"), what="the job to complete")
    assert (job["status"]["succeeded"], job["status"].get("failed", 0)) == (1, 0)
