"""A StatefulSet's status, counted from its pods as upstream's updateStatefulSet does.

replicas counts every pod the set has; ready/available the running ones that are ready (for minReadySeconds);
current/updated the live pods made from currentRevision/updateRevision. A RollingUpdate completes (and
currentRevision becomes updateRevision) once every pod is updated and ready.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from kubelite.client.cache import Snapshot
from kubelite.client.frozen import thaw
from kubelite.client.rest import JSON
from kubelite.controllers import replicaset_pods
from kubelite.controllers.statefulset_pods import Pod, is_running_and_ready, is_terminating, revision_of

_OMIT_WHEN_ZERO = ("readyReplicas", "currentReplicas", "updatedReplicas")


def is_available(pod: Pod, min_ready_seconds: int, now: datetime.datetime) -> bool:
    return is_running_and_ready(pod) and replicaset_pods.is_available(pod, min_ready_seconds, now)


def compute_status(
    sts: Snapshot, pods: Iterable[Pod], current: str, update: str, now: datetime.datetime
) -> JSON:
    spec = sts["spec"]
    min_ready = int(spec.get("minReadySeconds") or 0)
    counts = dict.fromkeys(("replicas", "readyReplicas", "availableReplicas", "currentReplicas"), 0)
    counts["updatedReplicas"] = 0
    for pod in pods:
        if not (pod.get("status") or {}).get("phase"):
            continue  # not created yet, as upstream's isCreated
        counts["replicas"] += 1
        if is_running_and_ready(pod):
            counts["readyReplicas"] += 1
            if is_available(pod, min_ready, now):
                counts["availableReplicas"] += 1
        if not is_terminating(pod):
            revision = revision_of(pod)
            counts["currentReplicas"] += revision == current
            counts["updatedReplicas"] += revision == update
    status: dict[str, Any] = thaw(sts.get("status") or {})
    status.update(counts, observedGeneration=sts["metadata"].get("generation", 1))
    status.update(currentRevision=current, updateRevision=update)
    strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
    if (
        strategy == "RollingUpdate"
        and status["updatedReplicas"] == status["replicas"]
        and status["readyReplicas"] == status["replicas"]
    ):
        status["currentReplicas"] = status["updatedReplicas"]
        status["currentRevision"] = update
    for field in _OMIT_WHEN_ZERO:
        if not status[field]:
            del status[field]
    return status
