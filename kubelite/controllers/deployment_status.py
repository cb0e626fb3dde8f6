"""A Deployment's status computed from its ReplicaSets: counts, Available, and the Progressing story.

Pure functions of (deployment, its ReplicaSets, now), so the condition rules — upstream's reasons, the
progress deadline counted from the Progressing condition's lastUpdateTime — are testable without a server.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.client.frozen import thaw
from kubelite.controllers import deployment_util as du
from kubelite.controllers.clock import parse_time

JSON = dict[str, Any]
PROGRESSING, AVAILABLE, REPLICA_FAILURE = "Progressing", "Available", "ReplicaFailure"
COMPLETE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
_COUNTS = (
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
    "collisionCount",
)


def calculate(
    d: Mapping[str, Any],
    every: Sequence[Mapping[str, Any]],
    new_rs: Mapping[str, Any] | None,
    now: datetime.datetime,
) -> JSON:
    """Counts summed over the ReplicaSets, and the Available condition (minimum availability reached)."""
    desired = int(d["spec"].get("replicas", 1))
    available = sum(du.status_count(rs, "availableReplicas") for rs in every)
    status: JSON = thaw(d.get("status") or {})
    status.update(
        observedGeneration=d["metadata"].get("generation", 0),
        replicas=sum(du.status_count(rs, "replicas") for rs in every),
        updatedReplicas=du.status_count(new_rs, "replicas"),
        readyReplicas=sum(du.status_count(rs, "readyReplicas") for rs in every),
        availableReplicas=available,
        unavailableReplicas=max(desired - available, 0),
    )
    for field in _COUNTS:  # omitted when zero, as upstream's omitempty does
        if not status.get(field):
            status.pop(field, None)
    if available >= desired - du.fenceposts(d)[1]:
        du.set_condition(
            status, AVAILABLE, "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now
        )
    else:
        du.set_condition(
            status,
            AVAILABLE,
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
        )
    return status


def rollout(
    d: Mapping[str, Any],
    every: Sequence[Mapping[str, Any]],
    new_rs: Mapping[str, Any] | None,
    now: datetime.datetime,
) -> JSON:
    """`calculate`, plus the Progressing condition (complete / progressing / timed out) and ReplicaFailure
    carried over from the ReplicaSets."""
    status = calculate(d, every, new_rs, now)
    current = du.condition(d.get("status") or {}, PROGRESSING)
    name = new_rs["metadata"]["name"] if new_rs else None
    subject = f'ReplicaSet "{name}"' if name else f'Deployment "{d["metadata"]["name"]}"'
    was_complete = (
        status.get("replicas", 0) == status.get("updatedReplicas", 0)
        and current is not None
        and current.get("reason") == COMPLETE_REASON
    )
    if du.progress_deadline(d) is not None and not was_complete:
        if du.is_complete(d, status):
            message = f"{subject} has successfully progressed."
            du.set_condition(status, PROGRESSING, "True", COMPLETE_REASON, message, now)
        elif du.is_progressing(d.get("status") or {}, status):
            # Progress moves lastUpdateTime even under the same reason: the deadline counts from it.
            du.remove_condition(status, PROGRESSING)
            du.set_condition(
                status, PROGRESSING, "True", "ReplicaSetUpdated", f"{subject} is progressing.", now
            )
            if current is not None and current.get("status") == "True":
                fresh = du.condition(status, PROGRESSING)
                assert isinstance(fresh, dict)
                fresh["lastTransitionTime"] = current["lastTransitionTime"]
        elif timed_out(d, status, now):
            message = f"{subject} has timed out progressing."
            du.set_condition(status, PROGRESSING, "False", TIMED_OUT_REASON, message, now)
    failures = (du.condition(rs.get("status") or {}, REPLICA_FAILURE) for rs in every)
    failure = next((c for c in failures if c is not None), None)
    if failure is not None:
        reason, message = failure.get("reason", ""), failure.get("message", "")
        du.set_condition(status, REPLICA_FAILURE, failure["status"], reason, message, now)
    elif du.condition(status, REPLICA_FAILURE) is not None:
        du.remove_condition(status, REPLICA_FAILURE)
    return status


def timed_out(d: Mapping[str, Any], status: Mapping[str, Any], now: datetime.datetime) -> bool:
    deadline = du.progress_deadline(d)
    current = du.condition(status, PROGRESSING)
    if deadline is None or current is None or current.get("reason") == COMPLETE_REASON:
        return False
    if current.get("reason") == TIMED_OUT_REASON:
        return True
    since = parse_time(current.get("lastUpdateTime"))
    return since is not None and since + datetime.timedelta(seconds=deadline) < now


def recheck_after(d: Mapping[str, Any], status: Mapping[str, Any], now: datetime.datetime) -> float | None:
    """Seconds until a stalled rollout's progress deadline passes (nothing else would wake us then)."""
    deadline = du.progress_deadline(d)
    current = du.condition(status, PROGRESSING)
    if deadline is None or current is None or current.get("reason") in (COMPLETE_REASON, TIMED_OUT_REASON):
        return None
    since = parse_time(current.get("lastUpdateTime"))
    if since is None or du.is_complete(d, status):
        return None
    after = (since + datetime.timedelta(seconds=deadline) - now).total_seconds()
    return after + 1.0 if after > 0 else 0.5
