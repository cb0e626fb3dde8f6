"""Defaults of apps/v1, batch/v1, storage.k8s.io/v1 and discovery.k8s.io/v1 kinds.

Workload templates are defaulted like pods (pods.template). The Job selector and pod labels are not a
default but part of creating a Job (upstream's job strategy generates them from the new uid):
`generate_job_selector` does that once the API server has assigned the uid.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.defaults import pods
from kubelite.api.defaults.shape import as_dict, as_list, ensure_dict, fill, fill_pointer, zero_status

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"


def _template(spec: dict[str, Any] | None) -> None:
    if spec is not None:
        pods.template(ensure_dict(spec, "template"))


def deployment(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    fill_pointer(spec, replicas=1)
    strategy = ensure_dict(spec, "strategy")
    fill(strategy, type="RollingUpdate")
    if strategy is not None and strategy.get("type") == "RollingUpdate":
        fill_pointer(ensure_dict(strategy, "rollingUpdate"), maxUnavailable="25%", maxSurge="25%")
    fill_pointer(spec, revisionHistoryLimit=10, progressDeadlineSeconds=600)
    _template(spec)
    zero_status(obj)


def replica_set(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    fill_pointer(spec, replicas=1)
    _template(spec)
    zero_status(obj, replicas=0)


def daemon_set(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    strategy = ensure_dict(spec, "updateStrategy")
    fill(strategy, type="RollingUpdate")
    if strategy is not None and strategy.get("type") == "RollingUpdate":
        fill_pointer(ensure_dict(strategy, "rollingUpdate"), maxUnavailable=1, maxSurge=0)
    fill_pointer(spec, revisionHistoryLimit=10)
    _template(spec)
    zero_status(obj, currentNumberScheduled=0, numberMisscheduled=0, desiredNumberScheduled=0, numberReady=0)


def stateful_set(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    if spec is None:
        return
    fill(spec, podManagementPolicy="OrderedReady")
    strategy = ensure_dict(spec, "updateStrategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
            ensure_dict(strategy, "rollingUpdate")
        rolling = as_dict(strategy.get("rollingUpdate"))
        if strategy["type"] == "RollingUpdate" and rolling is not None:
            fill_pointer(rolling, partition=0)
    retention = ensure_dict(spec, "persistentVolumeClaimRetentionPolicy")
    fill(retention, whenDeleted="Retain", whenScaled="Retain")
    fill_pointer(spec, replicas=1, revisionHistoryLimit=10)
    _template(spec)
    for claim in as_list(spec.get("volumeClaimTemplates")):
        claim = as_dict(claim)
        if claim is None:
            continue
        # The v1 conversion names the embedded claims' kind; Go serializes their zero metadata time.
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        pods.zero_metadata(claim)
        fill_pointer(ensure_dict(claim, "spec"), volumeMode="Filesystem")
        fill(ensure_dict(claim, "status"), phase="Pending")
    zero_status(obj, replicas=0, availableReplicas=0)


def job(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    if spec is None:
        return
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    fill_pointer(spec, parallelism=1)
    fill_pointer(spec, backoffLimit=2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6)
    labels = as_dict(as_dict(as_dict(spec.get("template"), {}).get("metadata"), {}).get("labels"))
    metadata = ensure_dict(obj, "metadata")
    if labels is not None and metadata is not None and not metadata.get("labels"):
        metadata["labels"] = dict(labels)
    fill_pointer(spec, completionMode="NonIndexed", suspend=False)
    failure_policy = as_dict(spec.get("podFailurePolicy"))
    for rule in as_list(as_dict(failure_policy, {}).get("rules")):
        for pattern in as_list(as_dict(rule, {}).get("onPodConditions")):
            fill(as_dict(pattern), status="True")
    fill_pointer(spec, podReplacementPolicy="Failed" if failure_policy is not None else "TerminatingOrFailed")
    fill_pointer(spec, manualSelector=False)
    _template(spec)
    zero_status(obj)


def cron_job(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    fill(spec, concurrencyPolicy="Allow")
    fill_pointer(spec, suspend=False, successfulJobsHistoryLimit=3, failedJobsHistoryLimit=1)
    job_template = ensure_dict(spec, "jobTemplate")
    if job_template is not None:
        pods.zero_metadata(job_template)
        _template(ensure_dict(job_template, "spec"))
    zero_status(obj)


def generate_job_selector(obj: dict[str, Any]) -> None:
    """Label the pod template with the Job's name and uid and select on the uid (unless manualSelector).

    Labels the user already set are kept: validation then refuses them if they disagree."""
    spec = as_dict(obj.get("spec"))
    metadata = as_dict(obj.get("metadata"), {})
    if spec is None or spec.get("manualSelector") is True:
        return
    name, uid = str(metadata.get("name") or ""), str(metadata.get("uid") or "")
    template = ensure_dict(spec, "template")
    labels = ensure_dict(ensure_dict(template, "metadata"), "labels")
    if labels is None:
        return
    for label in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(label, name)
    for label in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(label, uid)
    match_labels = ensure_dict(ensure_dict(spec, "selector"), "matchLabels")
    if match_labels is not None:
        match_labels.setdefault(CONTROLLER_UID_LABEL, uid)
    # Upstream defaults a Job's labels from its template's each time it decodes one, so the Job reads
    # back with the generated labels too.
    if isinstance(obj.get("metadata"), dict) and not metadata.get("labels"):
        metadata["labels"] = dict(labels)


def storage_class(obj: dict[str, Any]) -> None:
    fill_pointer(obj, reclaimPolicy="Delete", volumeBindingMode="Immediate")


def endpoint_slice(obj: dict[str, Any]) -> None:
    for port in as_list(obj.get("ports")):
        fill_pointer(as_dict(port), name="", protocol="TCP")
