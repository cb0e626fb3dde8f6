"""What Indexed Jobs add to the Job controller: a back-off limit per index, and a success policy.

With spec.backoffLimitPerIndex each index retries on its own: every pod carries how many failures (and
ignored failures) its index had before it, in annotations; a counted failure of a pod whose index already
failed backoffLimitPerIndex times, or one matching a FailIndex rule of the podFailurePolicy, fails the index
for good (status.failedIndexes). Too many failed indexes (maxFailedIndexes), or every index either succeeded
or failed, fail the Job. spec.successPolicy ends the Job early, successfully, once any one rule is met by the
succeeded indexes (KEP-3850, KEP-3998, Kubernetes 1.32).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.client.cache import Snapshot
from kubelite.controllers import jobfailurepolicy, jobpods

FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
MAX_FAILED_INDEXES = (
    "MaxFailedIndexesExceeded",
    "Job has exceeded the specified maximal number of failed indexes",
)
FAILED_INDEXES = ("FailedIndexes", "Job has failed indexes")


def per_index(spec: Mapping[str, Any]) -> bool:
    return spec.get("completionMode") == "Indexed" and spec.get("backoffLimitPerIndex") is not None


def _annotation(pod: Snapshot, name: str) -> int:
    text = str((pod["metadata"].get("annotations") or {}).get(name, "0"))
    return int(text) if text.isdigit() else 0


def _action(spec: Mapping[str, Any], pod: Snapshot) -> str:
    match = jobfailurepolicy.evaluate(spec, pod)
    return jobfailurepolicy.COUNT if match is None else match.action


def index_failed(spec: Mapping[str, Any], pod: Snapshot) -> bool:
    """Whether this failed pod fails its index: a FailIndex rule matched, or a counted failure used up the
    index's last retry."""
    action = _action(spec, pod)
    if action == jobfailurepolicy.FAIL_INDEX:
        return True
    if action == jobfailurepolicy.IGNORE:
        return False
    return _annotation(pod, FAILURE_COUNT) >= int(spec["backoffLimitPerIndex"])


def replacement_annotations(
    spec: Mapping[str, Any], failed: Iterable[Snapshot], index: int
) -> dict[str, str]:
    """The failure counts a new pod for `index` carries, after the failed pods of that index."""
    failures = ignored = 0
    for pod in failed:
        if jobpods.completion_index(pod) != index:
            continue
        counted = _action(spec, pod) != jobfailurepolicy.IGNORE
        failures = max(failures, _annotation(pod, FAILURE_COUNT) + counted)
        ignored = max(ignored, _annotation(pod, IGNORED_FAILURE_COUNT) + (not counted))
    found = {FAILURE_COUNT: str(failures)}
    if ignored:
        found[IGNORED_FAILURE_COUNT] = str(ignored)
    return found


def judge_failed_indexes(spec: Mapping[str, Any], status: Mapping[str, Any]) -> tuple[str, str] | None:
    """The FailureTarget reason and message that the failed indexes call for, if any."""
    failed = len(jobpods.parse_indexes(status.get("failedIndexes")))
    if not failed:
        return None
    limit = spec.get("maxFailedIndexes")
    if limit is not None and failed > limit:
        return MAX_FAILED_INDEXES
    succeeded = len(jobpods.parse_indexes(status.get("completedIndexes")))
    return FAILED_INDEXES if failed + succeeded >= int(spec["completions"]) else None


def _rule_indexes(text: str, completions: int) -> set[int]:
    """A rule's succeededIndexes; indexes past completions are left out, as upstream parses them."""
    try:
        return {i for i in jobpods.parse_indexes(text) if i < completions}
    except ValueError:
        return set()


def match_success_policy(spec: Mapping[str, Any], completed: set[int]) -> str | None:
    """The SuccessCriteriaMet message if a successPolicy rule is met by the `completed` indexes, else None."""
    policy = spec.get("successPolicy")
    if policy is None or not completed:
        return None
    completions = int(spec.get("completions") or 0)
    for position, rule in enumerate(policy.get("rules") or ()):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            wanted = _rule_indexes(str(rule["succeededIndexes"]), completions)
            if not wanted:
                continue
            contained = len(wanted & completed)
            met = contained == len(wanted) or (count is not None and contained >= count)
        else:
            met = count is not None and len(completed) >= count
        if met:
            return f"Matched rules at index {position}"
    return None


def failed_pods(spec: Mapping[str, Any], pods: Iterable[Snapshot], deliberate: set[str]) -> list[Snapshot]:
    """Failed pods that count for their index's failure counts: not those the controller deleted itself
    (`deliberate` uids), though failures ignored by the podFailurePolicy are in that set too and do count,
    as ignored failures."""
    return [
        p
        for p in pods
        if jobpods.outcome(p) == "Failed"
        and (str(p["metadata"]["uid"]) not in deliberate or _action(spec, p) == jobfailurepolicy.IGNORE)
    ]
