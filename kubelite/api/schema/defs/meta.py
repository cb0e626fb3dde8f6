"""meta/v1 (io.k8s.apimachinery.pkg.apis.meta.v1): metadata, selectors and Status shared by every group."""

from __future__ import annotations

from typing import Any

from kubelite.api.schema.dsl import (
    Free,
    Package,
    array,
    boolean,
    define,
    int32,
    int64,
    map_of,
    raw_extension,
    ref,
    register_kind,
    string,
    time,
)

meta = Package("io.k8s.apimachinery.pkg.apis.meta.v1.")

FieldsV1 = define(meta.prefix + "FieldsV1", Free("A set of field paths, in the internal fieldsV1 JSON form."))
Patch = define(meta.prefix + "Patch", Free("A patch document; its format is given by the Content-Type."))

ManagedFieldsEntry = meta.struct(
    "ManagedFieldsEntry",
    "The set of fields one manager owns, through one operation, at one API version.",
    manager=string("Name of the workflow that manages these fields."),
    operation=string("Operation that made this entry: Apply or Update."),
    apiVersion=string("API version the field set is expressed in."),
    time=time("When the last change to these fields happened."),
    fieldsType=string("Format of the field set; only FieldsV1 exists."),
    fieldsV1=ref(meta.prefix + "FieldsV1", "The owned fields, when fieldsType is FieldsV1."),
    subresource=string("Subresource through which the fields were written, empty for the main resource."),
)

OwnerReference = meta.struct(
    "OwnerReference",
    "Points at an object that owns this one, in the same namespace.",
    atomic=True,
    apiVersion=string("API version of the owner.", required=True),
    kind=string("Kind of the owner.", required=True),
    name=string("Name of the owner.", required=True),
    uid=string("UID of the owner.", required=True),
    controller=boolean("True if the owner is the managing controller; at most one owner may say so."),
    blockOwnerDeletion=boolean(
        "If true, foreground deletion of the owner waits for this object to go first."
    ),
)

ObjectMeta = meta.struct(
    "ObjectMeta",
    "Metadata every persisted object has: identity, labels, annotations, ownership and lifecycle.",
    name=string("Name, unique in its namespace for the kind; cannot be changed."),
    generateName=string("Prefix from which the server generates a unique name when name is empty."),
    namespace=string("Namespace the object lives in; empty for cluster-scoped kinds."),
    selfLink=string("Deprecated and no longer set."),
    uid=string("Unique ID the server assigns at creation, never reused."),
    resourceVersion=string("Opaque version of this object, for optimistic concurrency and watches."),
    generation=int64("Sequence number of the desired state, bumped by the server on spec changes."),
    creationTimestamp=time("When the server created the object."),
    deletionTimestamp=time("When the object will be deleted; set by the server when deletion is requested."),
    deletionGracePeriodSeconds=int64("Seconds the object is allowed to terminate gracefully."),
    labels=map_of(string(), "Key/value pairs used to organize and select objects."),
    annotations=map_of(string(), "Unstructured key/value data kept by tools; not used for selection."),
    ownerReferences=array(
        OwnerReference,
        "Objects this one depends on; when all owners are gone it is garbage collected.",
        list_type="map",
        map_keys=("uid",),
        merge_key="uid",
        strategy="merge",
    ),
    finalizers=array(
        string(),
        "Keys that must be removed before the object is deleted from storage.",
        list_type="set",
        strategy="merge",
    ),
    managedFields=array(
        ManagedFieldsEntry, "Which manager owns which fields, for server-side apply.", list_type="atomic"
    ),
)

ShardInfo = meta.struct(
    "ShardInfo",
    "The shard selector that was applied to produce a list response.",
    selector=string("The shard selector expression.", required=True),
)

# `continue` is a Python keyword, so this field cannot be passed as a plain keyword argument.
_continue: dict[str, Any] = {"continue": string("Token to fetch the next page; empty on the last page.")}

ListMeta = meta.struct(
    "ListMeta",
    "Metadata of a list: the resourceVersion it reflects and how to continue it.",
    selfLink=string("Deprecated and no longer set."),
    resourceVersion=string("Version of the store the list reflects; watch from it to follow changes."),
    remainingItemCount=int64("Estimated number of items after this page, when the list was limited."),
    shardInfo=ref(ShardInfo, "The shard selector of this list, if one was requested."),
    **_continue,
)

LabelSelectorRequirement = meta.struct(
    "LabelSelectorRequirement",
    "A condition on one label: a key, an operator and values.",
    key=string("The label key the requirement applies to.", required=True),
    operator=string("How key and values relate: In, NotIn, Exists or DoesNotExist.", required=True),
    values=array(string(), "Values for In and NotIn; empty for Exists and DoesNotExist.", list_type="atomic"),
)

LabelSelector = meta.struct(
    "LabelSelector",
    "A label query; all its conditions must hold. An empty selector matches everything.",
    atomic=True,
    matchLabels=map_of(string(), "Labels that must be present with exactly these values."),
    matchExpressions=array(
        LabelSelectorRequirement, "Further requirements, all of them ANDed.", list_type="atomic"
    ),
)

Condition = meta.struct(
    "Condition",
    "One aspect of an object's current state, in the standard condition form.",
    type=string("Type of the condition, in CamelCase.", required=True),
    status=string("True, False or Unknown.", required=True),
    observedGeneration=int64("The metadata.generation the condition was computed from."),
    lastTransitionTime=time("When the status last changed.", required=True),
    reason=string("Machine-readable CamelCase reason for the last transition.", required=True),
    message=string("Human-readable details of the last transition.", required=True),
)

StatusCause = meta.struct(
    "StatusCause",
    "One cause of a failed request, often tied to a field.",
    reason=string("Machine-readable cause, such as FieldValueInvalid."),
    message=string("Human-readable description of the cause."),
    field=string("Path of the field at fault, such as spec.containers[0].name."),
)

StatusDetails = meta.struct(
    "StatusDetails",
    "Extra detail about a failure: the object concerned and the individual causes.",
    name=string("Name of the object concerned."),
    group=string("API group of the object concerned."),
    kind=string("Kind of the object concerned."),
    uid=string("UID of the object concerned."),
    causes=array(StatusCause, "The individual causes of the failure.", list_type="atomic"),
    retryAfterSeconds=int32("Seconds the client should wait before retrying."),
)

Status = meta.struct(
    "Status",
    "Result of a call that returns no object, in particular of a failed one.",
    apiVersion=string("Versioned schema of this object."),
    kind=string("The REST kind of this object."),
    metadata=ref(ListMeta, "Standard list metadata."),
    status=string("Success or Failure."),
    message=string("Human-readable description of the result."),
    reason=string("Machine-readable CamelCase reason, such as NotFound."),
    details=ref(StatusDetails, "Further detail, depending on the reason."),
    code=int32("HTTP status code of the result."),
)
register_kind("", "v1", "Status", Status)

Preconditions = meta.struct(
    "Preconditions",
    "Conditions an object must meet for an operation on it to proceed.",
    uid=string("The object's UID must be this."),
    resourceVersion=string("The object's resourceVersion must be this."),
)

DeleteOptions = meta.struct(
    "DeleteOptions",
    "Options of a delete call.",
    apiVersion=string("Versioned schema of this object."),
    kind=string("The REST kind of this object."),
    gracePeriodSeconds=int64("Seconds before the object is deleted; 0 means immediately."),
    preconditions=ref(Preconditions, "Conditions that must hold for the delete to proceed."),
    orphanDependents=boolean("Deprecated: true orphans dependents; use propagationPolicy."),
    propagationPolicy=string("How dependents are deleted: Orphan, Background or Foreground."),
    dryRun=array(string(), "All means process the request without persisting it.", list_type="atomic"),
    ignoreStoreReadErrorWithClusterBreakingPotential=boolean(
        "Delete even an object whose stored form cannot be read; may break the cluster."
    ),
)
register_kind("", "v1", "DeleteOptions", DeleteOptions)

WatchEvent = meta.struct(
    "WatchEvent",
    "One event of a watch stream.",
    type=string("ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.", required=True),
    object=raw_extension("The object concerned, or a Status for ERROR.", required=True),
)
register_kind("", "v1", "WatchEvent", WatchEvent)
