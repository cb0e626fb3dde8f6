"""Schemas of the non-core groups: apps, batch, discovery, storage, coordination, events, autoscaling, policy.

Checks that each kind is registered under its upstream definition name and GVK, that the fields controllers
and kubectl depend on have upstream's types and required markers, and that the list and patch metadata
drives strategic merge patch the way upstream's Go markers do.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.patch.strategic import strategic_merge_patch
from kubelite.api.schema import definition, kind_schema, kinds
from kubelite.api.schema.dsl import Array, Node, Ref, Scalar, Struct, definitions
from kubelite.api.schema.validate import validate
from tests.support.examples import EXAMPLES, example_documents

GROUP_KINDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "v1"): (
        "Deployment",
        "DeploymentList",
        "ReplicaSet",
        "ReplicaSetList",
        "DaemonSet",
        "DaemonSetList",
        "StatefulSet",
        "StatefulSetList",
        "ControllerRevision",
        "ControllerRevisionList",
    ),
    ("batch", "v1"): ("Job", "JobList", "CronJob", "CronJobList"),
    ("discovery.k8s.io", "v1"): ("EndpointSlice", "EndpointSliceList"),
    ("storage.k8s.io", "v1"): ("StorageClass", "StorageClassList"),
    ("coordination.k8s.io", "v1"): ("Lease", "LeaseList"),
    ("events.k8s.io", "v1"): ("Event", "EventList"),
    ("autoscaling", "v1"): ("Scale",),
    ("policy", "v1"): ("Eviction", "PodDisruptionBudget", "PodDisruptionBudgetList"),
}
PACKAGES = {
    "apps": "io.k8s.api.apps.v1.",
    "batch": "io.k8s.api.batch.v1.",
    "discovery.k8s.io": "io.k8s.api.discovery.v1.",
    "storage.k8s.io": "io.k8s.api.storage.v1.",
    "coordination.k8s.io": "io.k8s.api.coordination.v1.",
    "events.k8s.io": "io.k8s.api.events.v1.",
    "autoscaling": "io.k8s.api.autoscaling.v1.",
    "policy": "io.k8s.api.policy.v1.",
}
ALL_GVKS = [(group, version, kind) for (group, version), names in GROUP_KINDS.items() for kind in names]


def struct(name: str) -> Struct:
    node = definition(name)
    assert isinstance(node, Struct), name
    return node


def at(name: str, *path: str) -> Node:
    """The node at a field path below definition `name`, following references (the last one unresolved)."""
    node: Node = struct(name)
    for part in path:
        parent = node.resolved()
        assert isinstance(parent, Struct), (name, path, part)
        child = parent.field(part)
        assert child is not None, f"{name} has no field {'.'.join(path)}"
        node = child
    return node


def scalar(name: str, *path: str) -> Scalar:
    node = at(name, *path).resolved()
    assert isinstance(node, Scalar), (name, path)
    return node


def array_at(name: str, *path: str) -> Array:
    node = at(name, *path)
    assert isinstance(node, Array), (name, path)
    return node


def items_name(node: Array) -> str:
    assert isinstance(node.items, Ref)
    return node.items.target


@pytest.mark.parametrize("gvk", ALL_GVKS, ids="/".join)
def test_kind_is_registered_under_its_upstream_name(gvk: tuple[str, str, str]) -> None:
    group, version, kind = gvk
    schema = kind_schema(group, version, kind)
    assert schema is not None
    assert schema.name == PACKAGES[group] + kind
    assert gvk in schema.gvks
    assert dict(kinds())[gvk] == schema.name
    assert {"apiVersion", "kind", "metadata"} <= set(schema.fields)
    meta = "ListMeta" if kind.endswith("List") else "ObjectMeta"
    assert isinstance(schema.fields["metadata"], Ref)
    assert schema.fields["metadata"].target == f"io.k8s.apimachinery.pkg.apis.meta.v1.{meta}"


@pytest.mark.parametrize("gvk", [gvk for gvk in ALL_GVKS if gvk[2].endswith("List")], ids="/".join)
def test_lists_hold_their_items(gvk: tuple[str, str, str]) -> None:
    group, _, kind = gvk
    items = array_at(PACKAGES[group] + kind, "items")
    assert items.required
    assert items_name(items) == PACKAGES[group] + kind.removesuffix("List")


def _references(node: Node, seen: set[int]) -> list[str]:
    if id(node) in seen:
        return []
    seen.add(id(node))
    if isinstance(node, Ref):
        return [node.target]
    if isinstance(node, Struct):
        return [target for child in node.fields.values() for target in _references(child, seen)]
    if isinstance(node, Array):
        return _references(node.items, seen)
    return []


def test_every_reference_of_these_groups_resolves() -> None:
    """Core and meta types are named by string; they must exist once all definitions are loaded."""
    seen: set[int] = set()
    targets = {
        target
        for name, node in definitions()
        if name.startswith(tuple(PACKAGES.values()))
        for target in _references(node, seen)
    }
    assert "io.k8s.api.core.v1.PodTemplateSpec" in targets
    unresolved = []
    for target in sorted(targets):
        try:
            definition(target)
        except KeyError:
            unresolved.append(target)
    assert unresolved == []


# ---- apps/v1 ----

APPS = "io.k8s.api.apps.v1."


def test_deployment_strategy_keeps_only_the_keys_of_its_type() -> None:
    strategy = at(APPS + "DeploymentSpec", "strategy")
    assert isinstance(strategy, Ref)
    assert strategy.target == APPS + "DeploymentStrategy"
    assert strategy.patch_strategy == "retainKeys"
    assert scalar(APPS + "DeploymentStrategy", "type").type == "string"
    for bound in ("maxSurge", "maxUnavailable"):
        assert scalar(APPS + "DeploymentStrategy", "rollingUpdate", bound).format == "int-or-string"
        assert scalar(APPS + "RollingUpdateDaemonSet", bound).format == "int-or-string"

    # What kubectl apply sends when a manifest switches from RollingUpdate to Recreate.
    deployment = kind_schema("apps", "v1", "Deployment")
    original = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert strategic_merge_patch(original, patch, deployment) == {"spec": {"strategy": {"type": "Recreate"}}}


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"])
def test_workload_conditions_merge_by_type(kind: str) -> None:
    conditions = array_at(APPS + kind + "Status", "conditions")
    assert (conditions.list_type, conditions.list_map_keys) == ("map", ("type",))
    assert (conditions.patch_merge_key, conditions.patch_strategy) == ("type", "merge")
    assert items_name(conditions) == APPS + kind + "Condition"

    schema = kind_schema("apps", "v1", kind)
    original = {"status": {"conditions": [{"type": "A", "status": "True"}, {"type": "B", "status": "True"}]}}
    patch = {"status": {"conditions": [{"type": "B", "status": "False", "reason": "Stuck"}]}}
    merged = strategic_merge_patch(original, patch, schema)
    assert merged["status"]["conditions"] == [
        {"type": "A", "status": "True"},
        {"type": "B", "status": "False", "reason": "Stuck"},
    ]


def test_only_deployment_conditions_carry_last_update_time() -> None:
    assert "lastUpdateTime" in struct(APPS + "DeploymentCondition").fields
    assert "lastUpdateTime" not in struct(APPS + "StatefulSetCondition").fields


@pytest.mark.parametrize(
    ("spec", "required"),
    [
        ("DeploymentSpec", ["selector", "template"]),
        ("ReplicaSetSpec", ["selector"]),
        ("DaemonSetSpec", ["selector", "template"]),
        ("StatefulSetSpec", ["selector", "template"]),
    ],
)
def test_workload_specs_require_upstreams_fields(spec: str, required: list[str]) -> None:
    assert struct(APPS + spec).required_fields == required
    selector = at(APPS + spec, "selector")
    assert isinstance(selector, Ref)
    assert selector.target == "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"


def test_statefulset_spec_has_claim_templates_and_ordinals() -> None:
    templates = array_at(APPS + "StatefulSetSpec", "volumeClaimTemplates")
    assert templates.list_type == "atomic"
    assert items_name(templates) == "io.k8s.api.core.v1.PersistentVolumeClaim"
    assert scalar(APPS + "StatefulSetSpec", "ordinals", "start").format == "int32"
    policy = struct(APPS + "StatefulSetPersistentVolumeClaimRetentionPolicy")
    assert list(policy.fields) == ["whenDeleted", "whenScaled"]
    update = at(APPS + "StatefulSetSpec", "updateStrategy", "rollingUpdate").resolved()
    assert isinstance(update, Struct)
    assert list(update.fields) == ["partition", "maxUnavailable"]
    assert scalar(APPS + "StatefulSetSpec", "serviceName").type == "string"
    assert not at(APPS + "StatefulSetSpec", "serviceName").required


def test_controller_revision_holds_raw_data() -> None:
    revision = struct(APPS + "ControllerRevision")
    assert revision.required_fields == ["data"]
    assert isinstance(revision.fields["data"], Ref)
    assert revision.fields["data"].target == "io.k8s.apimachinery.pkg.runtime.RawExtension"
    assert scalar(APPS + "ControllerRevision", "revision").format == "int64"


# ---- batch/v1 ----

BATCH = "io.k8s.api.batch.v1."


def test_job_spec_fields() -> None:
    spec = struct(BATCH + "JobSpec")
    assert spec.required_fields == ["template"]
    for name in ("completionMode", "podReplacementPolicy", "managedBy"):
        assert scalar(BATCH + "JobSpec", name).type == "string"
    for name in ("backoffLimitPerIndex", "maxFailedIndexes", "parallelism", "completions"):
        assert scalar(BATCH + "JobSpec", name).format == "int32"
    assert scalar(BATCH + "JobSpec", "activeDeadlineSeconds").format == "int64"

    rules = array_at(BATCH + "PodFailurePolicy", "rules")
    assert rules.required and rules.list_type == "atomic"
    exit_codes = array_at(BATCH + "PodFailurePolicyOnExitCodesRequirement", "values")
    assert exit_codes.required and exit_codes.list_type == "set"
    assert struct(BATCH + "PodFailurePolicyRule").required_fields == ["action"]
    assert struct(BATCH + "SuccessPolicyRule").required_fields == []
    assert array_at(BATCH + "SuccessPolicy", "rules").required


def test_job_status_fields() -> None:
    conditions = array_at(BATCH + "JobStatus", "conditions")
    # Upstream keeps Job conditions atomic for apply but merges them by type in strategic merge patch.
    assert (conditions.list_type, conditions.patch_merge_key, conditions.patch_strategy) == (
        "atomic",
        "type",
        "merge",
    )
    assert struct(BATCH + "JobCondition").required_fields == ["type", "status"]
    for name in ("succeeded", "failed"):
        uids = array_at(BATCH + "JobStatus", "uncountedTerminatedPods", name)
        assert uids.list_type == "set"
    assert scalar(BATCH + "JobStatus", "startTime").format == "date-time"


def test_cronjob_schedule_and_time_zone() -> None:
    assert struct(BATCH + "CronJobSpec").required_fields == ["schedule", "jobTemplate"]
    assert scalar(BATCH + "CronJobSpec", "timeZone").type == "string"
    job_spec = at(BATCH + "CronJobSpec", "jobTemplate", "spec")
    assert isinstance(job_spec, Ref) and job_spec.target == BATCH + "JobSpec"
    assert items_name(array_at(BATCH + "CronJobStatus", "active")) == "io.k8s.api.core.v1.ObjectReference"
    assert struct(BATCH + "CronJob").required_fields == ["spec"]


# ---- the smaller groups ----


def test_endpointslice_endpoints() -> None:
    slice_ = "io.k8s.api.discovery.v1.EndpointSlice"
    assert struct(slice_).required_fields == ["addressType"]
    endpoints = array_at(slice_, "endpoints")
    assert endpoints.list_type == "atomic"
    assert items_name(endpoints) == "io.k8s.api.discovery.v1.Endpoint"
    addresses = array_at("io.k8s.api.discovery.v1.Endpoint", "addresses")
    assert addresses.required and addresses.list_type == "set"
    assert struct("io.k8s.api.discovery.v1.EndpointPort").map_type == "atomic"
    assert scalar("io.k8s.api.discovery.v1.EndpointPort", "appProtocol").type == "string"
    for hint in ("forZones", "forNodes"):
        assert array_at("io.k8s.api.discovery.v1.EndpointHints", hint).list_type == "atomic"
    assert scalar("io.k8s.api.discovery.v1.Endpoint", "conditions", "serving").type == "boolean"


def test_storage_class_lease_event_and_scale() -> None:
    assert struct("io.k8s.api.storage.v1.StorageClass").required_fields == ["provisioner"]
    assert "spec" not in struct("io.k8s.api.storage.v1.StorageClass").fields
    zones = {"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["a", "b"]}]}
    storage_class = {"provisioner": "rancher.io/local-path", "allowedTopologies": [zones]}
    assert validate(storage_class, "storage.k8s.io", "v1", "StorageClass", semantic=False) == []
    assert scalar("io.k8s.api.coordination.v1.Lease", "spec", "renewTime").format == "date-time"
    renew_time = at("io.k8s.api.coordination.v1.LeaseSpec", "renewTime")
    assert (
        isinstance(renew_time, Ref) and renew_time.target == "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
    )
    assert struct("io.k8s.api.events.v1.Event").required_fields == ["eventTime"]
    assert struct("io.k8s.api.events.v1.EventSeries").required_fields == ["count", "lastObservedTime"]
    assert struct("io.k8s.api.autoscaling.v1.ScaleStatus").required_fields == ["replicas"]
    assert scalar("io.k8s.api.autoscaling.v1.Scale", "spec", "replicas").format == "int32"
    assert scalar("io.k8s.api.autoscaling.v1.Scale", "status", "selector").type == "string"


def test_pod_disruption_budget_replaces_its_selector() -> None:
    selector = at("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector")
    assert selector.patch_strategy == "replace"
    for bound in ("minAvailable", "maxUnavailable"):
        assert scalar("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", bound).format == "int-or-string"
    pdb = kind_schema("policy", "v1", "PodDisruptionBudget")
    original: dict[str, Any] = {"spec": {"selector": {"matchLabels": {"app": "a", "tier": "web"}}}}
    patch = {"spec": {"selector": {"matchLabels": {"app": "b"}}}}
    assert strategic_merge_patch(original, patch, pdb)["spec"]["selector"] == {"matchLabels": {"app": "b"}}
    eviction = at("io.k8s.api.policy.v1.Eviction", "deleteOptions")
    assert (
        isinstance(eviction, Ref) and eviction.target == "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
    )


TEMPLATE = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
SELECTOR = {"matchLabels": {"app": "a"}}


@pytest.mark.parametrize(
    ("gvk", "obj", "expected"),
    [
        (
            ("apps", "v1", "Deployment"),
            {
                "spec": {
                    "selector": SELECTOR,
                    "template": TEMPLATE,
                    "strategy": {"rollingUpdate": {"maxSurge": True}},
                }
            },
            ("FieldValueTypeInvalid", "spec.strategy.rollingUpdate.maxSurge"),
        ),
        (
            ("apps", "v1", "Deployment"),
            {"spec": {"selector": SELECTOR, "template": TEMPLATE, "replica": 3}},
            ("UnknownField", "spec.replica"),
        ),
        (
            ("apps", "v1", "StatefulSet"),
            {"spec": {"selector": SELECTOR, "template": TEMPLATE, "volumeClaimTemplates": {"name": "data"}}},
            ("FieldValueTypeInvalid", "spec.volumeClaimTemplates"),
        ),
        (
            ("apps", "v1", "DaemonSet"),
            {"spec": {"selector": SELECTOR}},
            ("FieldValueRequired", "spec.template"),
        ),
        (
            ("batch", "v1", "Job"),
            {"spec": {"template": TEMPLATE, "completionMode": 1}},
            ("FieldValueTypeInvalid", "spec.completionMode"),
        ),
        (
            ("batch", "v1", "CronJob"),
            {"spec": {"timeZone": "Etc/UTC", "jobTemplate": {"spec": {"template": TEMPLATE}}}},
            ("FieldValueRequired", "spec.schedule"),
        ),
        (
            ("discovery.k8s.io", "v1", "EndpointSlice"),
            {"addressType": "IPv4", "endpoints": [{"conditions": {"ready": True}}]},
            ("FieldValueRequired", "endpoints[0].addresses"),
        ),
        (
            ("events.k8s.io", "v1", "Event"),
            {"eventTime": "yesterday", "reason": "Started"},
            ("FieldValueInvalid", "eventTime"),
        ),
    ],
    ids=lambda value: "" if isinstance(value, dict) else "/".join(value),
)
def test_structural_problems_are_found(
    gvk: tuple[str, str, str], obj: dict[str, Any], expected: tuple[str, str]
) -> None:
    causes = validate(obj, *gvk, semantic=False)
    assert [(cause.reason, cause.field) for cause in causes] == [expected]


# ---- upstream's documentation examples ----


def _example_documents() -> list[tuple[str, dict[str, Any]]]:
    """(path#index, document) of every example manifest whose kind is one of these groups'."""
    wanted = set(ALL_GVKS)
    return [(d.where, d.document) for d in example_documents() if (d.group, d.version, d.kind) in wanted]


EXAMPLE_DOCUMENTS = _example_documents() if EXAMPLES.is_dir() else []


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} (upstream's example manifests) is not here")
def test_examples_cover_these_groups() -> None:
    kinds_seen = {document["kind"] for _, document in EXAMPLE_DOCUMENTS}
    assert {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "StorageClass"} <= kinds_seen
    assert len(EXAMPLE_DOCUMENTS) >= 60


@pytest.mark.parametrize(
    ("where", "document"), EXAMPLE_DOCUMENTS, ids=[where for where, _ in EXAMPLE_DOCUMENTS]
)
def test_example_manifest_is_structurally_valid(where: str, document: dict[str, Any]) -> None:
    group, _, version = document["apiVersion"].rpartition("/")
    assert validate(document, group, version, document["kind"], semantic=False) == []
