"""Indexed Jobs' own policies through reconcile: backoffLimitPerIndex, maxFailedIndexes, FailIndex rules and
successPolicy."""

from __future__ import annotations

from typing import Any

from kubelite.controllers import jobindexes, jobpods
from kubelite.controllers.job import PODS
from tests.unit.controllers.test_job import Harness, exited, job


def indexed(**spec: Any) -> dict[str, Any]:
    return job(completionMode="Indexed", **spec)


def by_index(h: Harness) -> dict[int, dict[str, Any]]:
    found = {}
    for pod in h.live_pods():
        index = jobpods.completion_index(pod)
        assert index is not None
        found[index] = pod
    return found


def fail(h: Harness, pod: dict[str, Any], code: int = 1) -> None:
    stored = h.fake.objects[("pods", "default", pod["metadata"]["name"])]
    exited(stored, code)
    h.fake.add(PODS, stored)


def failure_count(pod: dict[str, Any]) -> str:
    return str(pod["metadata"]["annotations"][jobindexes.FAILURE_COUNT])


async def test_each_index_retries_on_its_own_then_fails_and_the_job_fails_with_failed_indexes() -> None:
    h = Harness(indexed(completions=2, parallelism=2, backoffLimitPerIndex=1, backoffLimit=2**31 - 1))
    await h.settle()
    pods = by_index(h)
    assert {failure_count(p) for p in pods.values()} == {"0"}
    fail(h, pods[0])
    delay = await h.settle()
    assert h.job()["status"]["failedIndexes"] == "" and h.job()["status"]["failed"] == 1
    assert sorted(by_index(h)) == [1] and delay is not None and 9 < delay <= 10  # index 0 backs off
    h.clock.advance(10)
    await h.settle()
    retry = by_index(h)[0]
    assert failure_count(retry) == "1"
    fail(h, retry)
    await h.settle()
    assert h.job()["status"]["failedIndexes"] == "0"
    assert sorted(by_index(h)) == [1]  # a failed index gets no new pod
    assert "FailureTarget" not in h.conditions()
    h.finish(by_index(h)[1], "Succeeded")
    await h.settle()
    status = h.job()["status"]
    assert (status["completedIndexes"], status["failedIndexes"], status["failed"]) == ("1", "0", 2)
    assert h.conditions() == {"FailureTarget": "FailedIndexes", "Failed": "FailedIndexes"}
    assert ("FailedIndexes", "Job has failed indexes", "Warning", "work") in h.events.events


async def test_more_failed_indexes_than_max_fail_the_job_at_once() -> None:
    h = Harness(indexed(completions=3, parallelism=3, backoffLimitPerIndex=0, maxFailedIndexes=0))
    await h.settle()
    fail(h, by_index(h)[2])
    await h.settle()
    assert h.job()["status"]["failedIndexes"] == "2"
    assert h.conditions() == {
        "FailureTarget": "MaxFailedIndexesExceeded",
        "Failed": "MaxFailedIndexesExceeded",
    }
    [failed] = [c for c in h.job()["status"]["conditions"] if c["type"] == "Failed"]
    assert failed["message"] == "Job has exceeded the specified maximal number of failed indexes"
    assert by_index(h) == {}  # the other indexes' pods were ended
    assert h.job()["status"]["failed"] == 1


async def test_a_fail_index_rule_fails_the_index_at_the_first_failure() -> None:
    policy = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}]}
    h = Harness(indexed(completions=2, parallelism=2, backoffLimitPerIndex=3, podFailurePolicy=policy))
    await h.settle()
    fail(h, by_index(h)[0], code=42)
    await h.settle()
    assert h.job()["status"]["failedIndexes"] == "0"
    fail(h, by_index(h)[1], code=1)  # not matching: an ordinary retry of index 1
    await h.settle()
    assert h.job()["status"]["failedIndexes"] == "0"
    h.clock.advance(10)
    await h.settle()
    assert failure_count(by_index(h)[1]) == "1"


async def test_ignored_failures_are_counted_apart() -> None:
    policy = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [7]}}]}
    h = Harness(indexed(completions=1, backoffLimitPerIndex=0, podFailurePolicy=policy))
    await h.settle()
    fail(h, by_index(h)[0], code=7)
    await h.settle()
    retry = by_index(h)[0]
    assert failure_count(retry) == "0"
    assert retry["metadata"]["annotations"][jobindexes.IGNORED_FAILURE_COUNT] == "1"
    assert h.job()["status"]["failedIndexes"] == ""


async def test_success_policy_on_indexes_ends_the_job_early() -> None:
    policy = {"rules": [{"succeededIndexes": "0,2-3", "succeededCount": 2}]}
    h = Harness(indexed(completions=5, parallelism=5, successPolicy=policy))
    await h.settle()
    pods = by_index(h)
    h.finish(pods[1], "Succeeded")  # not in the rule
    h.finish(pods[3], "Succeeded")
    await h.settle()
    assert "SuccessCriteriaMet" not in h.conditions()
    h.finish(pods[0], "Succeeded")
    await h.settle()
    assert h.conditions() == {"SuccessCriteriaMet": "SuccessPolicy", "Complete": "SuccessPolicy"}
    complete = next(c for c in h.job()["status"]["conditions"] if c["type"] == "Complete")
    assert complete["message"] == "Matched rules at index 0"
    status = h.job()["status"]
    assert by_index(h) == {} and status.get("failed", 0) == 0  # the rest were ended, not failed
    assert (status["completedIndexes"], status["succeeded"]) == ("0-1,3", 3)
    assert "completionTime" in status


async def test_success_policy_by_count_alone() -> None:
    policy = {"rules": [{"succeededIndexes": "4"}, {"succeededCount": 1}]}
    h = Harness(indexed(completions=5, parallelism=2, successPolicy=policy))
    await h.settle()
    h.finish(by_index(h)[1], "Succeeded")
    await h.settle()
    complete = next(c for c in h.job()["status"]["conditions"] if c["type"] == "Complete")
    assert (complete["reason"], complete["message"]) == ("SuccessPolicy", "Matched rules at index 1")


def test_success_policy_rules_match_as_upstream() -> None:
    def met(rule: dict[str, Any], completed: set[int]) -> bool:
        spec = {"completions": 10, "successPolicy": {"rules": [rule]}}
        return jobindexes.match_success_policy(spec, completed) is not None

    assert met({"succeededIndexes": "0-2"}, {0, 1, 2, 4})
    assert not met({"succeededIndexes": "0-2"}, {0, 2})
    assert met({"succeededIndexes": "0-2", "succeededCount": 2}, {0, 2})
    assert not met({"succeededIndexes": "3"}, set())
    assert not met({"succeededIndexes": "12-14"}, {0})  # past completions: never met
    assert met({"succeededCount": 3}, {5, 7, 9})
