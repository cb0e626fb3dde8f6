"""A Job's podFailurePolicy: which rule, if any, a failed pod matches, and what it means for the Job.

Rules are tried in order; the first match decides: FailJob fails the whole Job at once, Ignore does not count
the failure against backoffLimit, Count counts it as usual, FailIndex counts it and fails the pod's index
(Jobs with backoffLimitPerIndex only: kubelite.controllers.jobindexes). A rule matches on the exit codes of
the pod's terminated containers (optionally of one container; exit code 0 never matches) or on a condition
the pod has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.client.cache import Snapshot

FAIL_JOB, FAIL_INDEX, IGNORE, COUNT = "FailJob", "FailIndex", "Ignore", "Count"


@dataclass(frozen=True, slots=True)
class Match:
    action: str
    message: str  # upstream's wording, used as the FailureTarget/Failed condition message


def _exit_codes(pod: Snapshot) -> list[tuple[str, int]]:
    status = pod.get("status") or {}
    out = []
    for container in [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]:
        terminated = (container.get("state") or {}).get("terminated")
        if terminated is not None:
            out.append((str(container.get("name", "")), int(terminated.get("exitCode", 0))))
    return out


def _exit_code_match(rule: Mapping[str, Any], pod: Snapshot) -> tuple[str, int] | None:
    wanted = rule.get("containerName")
    values = set(rule.get("values") or ())
    operator = rule.get("operator")
    for name, code in _exit_codes(pod):
        if code == 0 or (wanted and name != wanted):
            continue
        if (code in values) == (operator == "In"):
            return name, code
    return None


def _has_condition(pod: Snapshot, pattern: Mapping[str, Any]) -> bool:
    wanted = (pattern.get("type"), pattern.get("status", "True"))
    return any(
        (c.get("type"), c.get("status")) == wanted for c in (pod.get("status") or {}).get("conditions") or ()
    )


def evaluate(spec: Mapping[str, Any], pod: Snapshot) -> Match | None:
    """The first rule of the Job's podFailurePolicy that a failed pod matches, or None."""
    policy = spec.get("podFailurePolicy") or {}
    meta = pod["metadata"]
    who = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
    for position, rule in enumerate(policy.get("rules") or ()):
        action = str(rule.get("action", ""))
        on_codes = rule.get("onExitCodes")
        if on_codes is not None:
            found = _exit_code_match(on_codes, pod)
            if found is not None:
                name, code = found
                message = (
                    f"Container {name} for pod {who} failed with exit code {code} matching {action} rule at "
                    f"index {position}"
                )
                return Match(action, message)
            continue
        for pattern in rule.get("onPodConditions") or ():
            if _has_condition(pod, pattern):
                kind = pattern.get("type")
                return Match(
                    action, f"Pod {who} has condition {kind} matching {action} rule at index {position}"
                )
    return None
