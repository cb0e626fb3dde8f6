"""Per-kind semantic validation, as upstream's pkg/apis/*/validation does it: the 422 Invalid causes.

The API server calls, after defaulting (kubelite.api.defaults) and structural validation
(kubelite.api.schema.validate) found nothing but strict-decoding problems:

    causes = validation.validate_create(obj)                      # POST
    causes = validation.validate_update(new, old)                 # PUT / PATCH of the main resource
    causes = validation.validate_update(new, old, subresource="status")   # .../status, .../finalize

Each Cause has upstream's reason (FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...),
field path and message body (`Required value`, `Invalid value: "x": why`); the server renders them into
`<Kind> "<name>" is invalid: <field>: <message>, ...`. The object's metadata is validated here too (name
rules differ per kind), so `covers(...)` tells the server which kinds no longer need its generic checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import batch, cluster, config, pods, services, storage, workloads
from kubelite.api.validation import meta as m

Create = Callable[[Mapping[str, Any]], list[Cause]]
Update = Callable[[Mapping[str, Any], Mapping[str, Any]], list[Cause]]

# (group, kind) → (create, update); updates default to "metadata rules, then the create rules".
_KINDS: dict[tuple[str, str], tuple[Create, Update | None]] = {
    ("", "Pod"): (pods.validate_pod, pods.validate_pod_update),
    ("", "PodTemplate"): (pods.validate_pod_template, pods.validate_pod_template_update),
    ("", "Binding"): (pods.validate_binding, None),
    ("", "Service"): (services.validate_service, services.validate_service_update),
    ("", "Endpoints"): (services.validate_endpoints, None),
    ("", "ReplicationController"): (
        workloads.validate_replication_controller,
        workloads.validate_replication_controller_update,
    ),
    ("", "ConfigMap"): (config.validate_config_map, config.validate_config_map_update),
    ("", "Secret"): (config.validate_secret, config.validate_secret_update),
    ("", "Namespace"): (config.validate_namespace, config.validate_namespace_update),
    ("", "ServiceAccount"): (config.validate_service_account, config.validate_service_account_update),
    ("", "PersistentVolume"): (storage.validate_persistent_volume, storage.validate_persistent_volume_update),
    ("", "PersistentVolumeClaim"): (
        storage.validate_persistent_volume_claim,
        storage.validate_persistent_volume_claim_update,
    ),
    ("", "Node"): (cluster.validate_node, cluster.validate_node_update),
    ("", "ResourceQuota"): (cluster.validate_resource_quota, cluster.validate_resource_quota_update),
    ("", "LimitRange"): (cluster.validate_limit_range, cluster.validate_limit_range_update),
    ("", "Event"): (cluster.validate_event, None),
    ("apps", "Deployment"): (workloads.validate_deployment, workloads.validate_deployment_update),
    ("apps", "ReplicaSet"): (workloads.validate_replica_set, workloads.validate_replica_set_update),
    ("apps", "DaemonSet"): (workloads.validate_daemon_set, workloads.validate_daemon_set_update),
    ("apps", "StatefulSet"): (workloads.validate_stateful_set, workloads.validate_stateful_set_update),
    ("apps", "ControllerRevision"): (
        workloads.validate_controller_revision,
        workloads.validate_controller_revision_update,
    ),
    ("batch", "Job"): (batch.validate_job, batch.validate_job_update),
    ("batch", "CronJob"): (batch.validate_cron_job, batch.validate_cron_job_update),
    ("autoscaling", "Scale"): (cluster.validate_scale, None),
    ("coordination.k8s.io", "Lease"): (cluster.validate_lease, cluster.validate_lease_update),
    ("discovery.k8s.io", "EndpointSlice"): (services.validate_endpoint_slice, None),
    ("events.k8s.io", "Event"): (cluster.validate_event, None),
    ("policy", "PodDisruptionBudget"): (cluster.validate_pod_disruption_budget, None),
    ("storage.k8s.io", "StorageClass"): (
        storage.validate_storage_class,
        storage.validate_storage_class_update,
    ),
}
# Status-like subresources whose writes follow their own rules (all others: metadata rules only).
_SUBRESOURCES: dict[tuple[str, str, str], Update] = {
    ("", "Pod", "status"): pods.validate_pod_status_update,
    ("", "Namespace", "status"): config.validate_namespace_status_update,
    ("", "Namespace", "finalize"): config.validate_namespace_finalize,
}
_KINDS_WITHOUT_METADATA = frozenset({("", "Binding"), ("autoscaling", "Scale")})


def _group_kind(obj: Mapping[str, Any]) -> tuple[str, str]:
    api_version = str(obj.get("apiVersion") or "")
    group = api_version.rpartition("/")[0]
    return group, str(obj.get("kind") or "")


def covers(group: str, kind: str) -> bool:
    """Whether this package validates the kind, metadata included."""
    return (group, kind) in _KINDS and (group, kind) not in _KINDS_WITHOUT_METADATA


def validate_create(obj: Mapping[str, Any]) -> list[Cause]:
    """Every problem of a new object, in upstream's order; empty when it may be stored."""
    checks = _KINDS.get(_group_kind(obj))
    return _unique(checks[0](obj)) if checks else []


def validate_update(new: Mapping[str, Any], old: Mapping[str, Any], *, subresource: str = "") -> list[Cause]:
    """Every problem of an update, immutable fields included. `subresource` names the write path
    ("status", "finalize"...); such writes keep the stored spec, so only their own rules apply."""
    group, kind = _group_kind(new)
    checks = _KINDS.get((group, kind))
    if checks is None:
        return []
    if subresource:
        special = _SUBRESOURCES.get((group, kind, subresource))
        if special is not None:
            return _unique(special(new, old))
        if (group, kind) in _KINDS_WITHOUT_METADATA:
            return []
        return _unique(m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {}))
    create, update = checks
    if update is not None:
        return _unique(update(new, old))
    if (group, kind) in _KINDS_WITHOUT_METADATA:
        return _unique(create(new))
    return _unique(m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {}) + create(new))


def _unique(found: list[Cause]) -> list[Cause]:
    """Upstream reports each distinct problem once, even when two checks find it."""
    return list(dict.fromkeys(found))
