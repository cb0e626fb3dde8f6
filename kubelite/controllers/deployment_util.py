"""The arithmetic and bookkeeping of Deployments, kept apart from the API calls so it can be tested alone.

Surge and unavailability budgets (int or percent, surge rounded up, unavailability down, as upstream), the
pod-template-hash, revision and replica annotations on ReplicaSets, proportional scaling shares, and the
Deployment's conditions.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import orjson

from kubelite.client.frozen import thaw
from kubelite.controllers.clock import format_time

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Deployment annotations that are never copied onto its ReplicaSets.
NOT_COPIED = {
    LAST_APPLIED,
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
}
MAX_HISTORY_CHARS = 2000
NO_DEADLINE = 2**31 - 1
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # no vowels (no words), no look-alikes

RS = Mapping[str, Any]
R = TypeVar("R", bound=Mapping[str, Any])


def template_hash(template: Mapping[str, Any], collision_count: int | None) -> str:
    """A stable, label-safe hash of a pod template: FNV-1a (32 bit) over its canonical JSON (and the
    collision count, so a collision yields a new name), spelled in a vowel-free alphabet."""
    data = orjson.dumps(template, option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += collision_count.to_bytes(4, "little")
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE_ALPHABET[int(d) % len(_SAFE_ALPHABET)] for d in str(value))


def without_hash(template: Mapping[str, Any]) -> Any:
    copy = thaw(template)
    labels = (copy.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return copy


def _scaled(value: Any, total: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value or 0)


def fenceposts(deployment: Mapping[str, Any]) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) in pods; both zero would stall a rollout, so unavailability becomes 1."""
    spec = deployment.get("spec") or {}
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    replicas = int(spec.get("replicas", 1))
    surge = _scaled(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = _scaled(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def replicas(rs: RS | None) -> int:
    return int(((rs or {}).get("spec") or {}).get("replicas") or 0)


def status_count(rs: RS | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field) or 0)


def revision(rs: RS) -> int:
    try:
        return int(((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


def annotation_int(rs: RS, key: str) -> int | None:
    try:
        return int(((rs.get("metadata") or {}).get("annotations") or {})[key])
    except (KeyError, ValueError):
        return None


def set_replica_annotations(annotations: dict[str, str], desired: int, maximum: int) -> bool:
    wanted = {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(maximum)}
    changed = any(annotations.get(k) != v for k, v in wanted.items())
    annotations.update(wanted)
    return changed


def set_new_rs_annotations(
    deployment: Mapping[str, Any], annotations: dict[str, str], new_revision: int, *, exists: bool
) -> bool:
    """Copy the Deployment's own annotations, bump the revision (recording the old one in the history) and,
    for a ReplicaSet being created, the replica annotations. True when something changed."""
    changed = False
    for key, value in ((deployment.get("metadata") or {}).get("annotations") or {}).items():
        if key not in NOT_COPIED and annotations.get(key) != value:
            annotations[key], changed = value, True
    old = annotations.get(REVISION, "")
    if not old.isdigit() or int(old) < new_revision:
        annotations[REVISION], changed = str(new_revision), True
        if old:
            history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h] + [old]
            while len(",".join(history)) > MAX_HISTORY_CHARS:
                history.pop(0)
            annotations[REVISION_HISTORY] = ",".join(history)
    if not exists:
        surge, _ = fenceposts(deployment)
        desired = int((deployment.get("spec") or {}).get("replicas", 1))
        set_replica_annotations(annotations, desired, desired + surge)
        changed = True
    return changed


def _round_half_away(value: float) -> int:
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def proportion(rs: RS, deployment: Mapping[str, Any], to_add: int, added: int) -> int:
    """How many of `to_add` pods (negative: to remove) this ReplicaSet takes when a Deployment is resized
    mid-rollout: its share of the new size by the max-replicas annotation it was last scaled with."""
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    spec = deployment.get("spec") or {}
    desired = int(spec.get("replicas", 1))
    if desired == 0:
        fraction = -replicas(rs)
    else:
        total = desired + fenceposts(deployment)[0]
        annotated = annotation_int(rs, MAX_REPLICAS)
        if annotated is None:
            annotated = int((deployment.get("status") or {}).get("replicas") or 0)
        fraction = _round_half_away(replicas(rs) * total / annotated) - replicas(rs) if annotated else 0
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def is_complete(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    desired = int((deployment.get("spec") or {}).get("replicas", 1))
    return bool(
        status.get("updatedReplicas", 0) == desired
        and status.get("replicas", 0) == desired
        and status.get("availableReplicas", 0) == desired
        and status.get("observedGeneration", 0) >= (deployment.get("metadata") or {}).get("generation", 0)
    )


def is_progressing(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    def count(s: Mapping[str, Any], key: str) -> int:
        return int(s.get(key) or 0)

    return (
        count(new, "updatedReplicas") > count(old, "updatedReplicas")
        or count(new, "replicas") - count(new, "updatedReplicas")
        < count(old, "replicas") - count(old, "updatedReplicas")
        or count(new, "readyReplicas") > count(old, "readyReplicas")
        or count(new, "availableReplicas") > count(old, "availableReplicas")
    )


def progress_deadline(deployment: Mapping[str, Any]) -> int | None:
    seconds = (deployment.get("spec") or {}).get("progressDeadlineSeconds")
    return None if seconds is None or seconds == NO_DEADLINE else int(seconds)


def condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    return next((c for c in status.get("conditions") or () if c.get("type") == kind), None)


def set_condition(
    status: dict[str, Any], kind: str, value: str, reason: str, message: str, now: datetime.datetime
) -> None:
    """Upstream's SetDeploymentCondition: same status and reason is no change; same status keeps the
    transition time."""
    current = condition(status, kind)
    if current is not None and current.get("status") == value and current.get("reason") == reason:
        return
    stamp = format_time(now)
    kept = current is not None and current.get("status") == value
    transition = current["lastTransitionTime"] if current is not None and kept else stamp
    remove_condition(status, kind)
    status.setdefault("conditions", []).append(
        {
            "type": kind,
            "status": value,
            "lastUpdateTime": stamp,
            "lastTransitionTime": transition,
            "reason": reason,
            "message": message,
        }
    )


def remove_condition(status: dict[str, Any], kind: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if not status["conditions"]:
        del status["conditions"]


def by_creation(sets: Sequence[R], *, newest_first: bool = False) -> list[R]:
    def key(rs: R) -> tuple[str, str]:
        meta = rs.get("metadata") or {}
        return (meta.get("creationTimestamp", ""), meta.get("name", ""))

    return sorted(sets, key=key, reverse=newest_first)
