"""Defaulting: what upstream fills into an object when it decodes it (pkg/apis/*/v1/defaults.go).

The API server calls it on every object it is about to validate and store, after structural validation
and before semantic validation (kubelite.api.validation):

    defaults.default(obj)                 # POST body, PUT body, patched object: in place, by apiVersion/kind
    defaults.generate_job_selector(job)   # POST of a batch/v1 Job, once metadata.uid is assigned

Besides upstream's SetDefaults_* rules this spells quantities canonically and adds the zero values Go
always serializes (`resources: {}`, a template's `creationTimestamp: null`, `status: {}`), so objects
read back exactly as a real API server returns them. Unknown kinds are left untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.api.defaults import core, pods, workloads
from kubelite.api.defaults.quantities import canonicalize
from kubelite.api.defaults.workloads import generate_job_selector
from kubelite.api.schema.dsl import kind_schema

__all__ = ["default", "generate_job_selector"]

_BY_KIND: dict[tuple[str, str, str], Callable[[dict[str, Any]], None]] = {
    ("", "v1", "Pod"): pods.pod,
    ("", "v1", "PodTemplate"): core.pod_template,
    ("", "v1", "ReplicationController"): core.replication_controller,
    ("", "v1", "Service"): core.service,
    ("", "v1", "Endpoints"): core.endpoints,
    ("", "v1", "Namespace"): core.namespace,
    ("", "v1", "Secret"): core.secret,
    ("", "v1", "PersistentVolume"): core.persistent_volume,
    ("", "v1", "PersistentVolumeClaim"): core.persistent_volume_claim,
    ("", "v1", "Node"): core.node,
    ("", "v1", "LimitRange"): core.limit_range,
    ("apps", "v1", "Deployment"): workloads.deployment,
    ("apps", "v1", "ReplicaSet"): workloads.replica_set,
    ("apps", "v1", "DaemonSet"): workloads.daemon_set,
    ("apps", "v1", "StatefulSet"): workloads.stateful_set,
    ("batch", "v1", "Job"): workloads.job,
    ("batch", "v1", "CronJob"): workloads.cron_job,
    ("storage.k8s.io", "v1", "StorageClass"): workloads.storage_class,
    ("discovery.k8s.io", "v1", "EndpointSlice"): workloads.endpoint_slice,
}


def default(obj: dict[str, Any]) -> None:
    """Fill upstream's defaults into `obj` in place; the kind comes from its apiVersion and kind."""
    group, _, version = str(obj.get("apiVersion") or "").rpartition("/")
    kind = str(obj.get("kind") or "")
    schema = kind_schema(group, version, kind)
    if schema is None:
        return
    defaulter = _BY_KIND.get((group, version, kind))
    if defaulter is not None:
        defaulter(obj)
    canonicalize(obj, schema)
