"""The pods of a Job: how the Job controller builds them, reads their outcome and writes completed indexes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.client import paths
from kubelite.client.cache import Snapshot
from kubelite.client.frozen import thaw
from kubelite.controllers.ownership import reference_to

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"

JOBS = paths.resource("batch", "v1", "jobs")


def has_finalizer(pod: Snapshot) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or ())


def outcome(pod: Snapshot) -> str | None:
    """The phase a finished pod ended in (Succeeded or Failed), else None. A pod deleted before it
    succeeded has failed (as upstream counts it)."""
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return str(phase)
    if pod["metadata"].get("deletionTimestamp"):
        return "Failed"
    return None


def finished_phase(pod: Snapshot) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_ready(pod: Snapshot) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or ()
    )


def completion_index(pod: Snapshot) -> int | None:
    meta = pod["metadata"]
    text = (meta.get("annotations") or {}).get(COMPLETION_INDEX) or (meta.get("labels") or {}).get(
        COMPLETION_INDEX
    )
    return int(text) if text is not None and str(text).isdigit() else None


def format_indexes(indexes: Iterable[int]) -> str:
    """`1,3-5,7`: the compact interval form of status.completedIndexes."""
    parts: list[str] = []
    run: list[int] = []
    for index in sorted(set(indexes)):
        if run and index == run[-1] + 1:
            run.append(index)
            continue
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [index]
    if run:
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(parts)


def parse_indexes(text: str | None) -> set[int]:
    indexes: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        indexes.update(range(int(low), int(high or low) + 1))
    return indexes


def new_pod(job: Snapshot, index: int | None, annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A pod of `job` from its template (index: the completion index of an Indexed Job), with extra
    `annotations` if given. The API server names it from generateName, as upstream's controller asks it to."""
    meta = job["metadata"]
    template = thaw(job["spec"]["template"])
    pod_meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    prefix = f"{meta['name']}-" if index is None else f"{meta['name']}-{index}-"
    pod_meta.update(
        generateName=prefix,
        namespace=meta["namespace"],
        ownerReferences=[reference_to(job, JOBS)],
        finalizers=[*(pod_meta.get("finalizers") or ()), TRACKING_FINALIZER],
    )
    pod_meta.pop("name", None)
    if annotations:
        pod_meta.setdefault("annotations", {}).update(annotations)
    if index is not None:
        pod_meta.setdefault("annotations", {})[COMPLETION_INDEX] = str(index)
        pod_meta.setdefault("labels", {})[COMPLETION_INDEX] = str(index)
        spec.setdefault("hostname", f"{meta['name']}-{index}")
        source = {"fieldRef": {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}
        for container in [*spec.get("initContainers", ()), *spec.get("containers", ())]:
            container.setdefault("env", []).append({"name": "JOB_COMPLETION_INDEX", "valueFrom": source})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}
