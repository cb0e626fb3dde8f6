"""apps/v1: the workload controllers (Deployment, ReplicaSet, DaemonSet, StatefulSet) and ControllerRevision.

Field sets, required markers and list/patch metadata follow upstream's Go types; the pod template and the
claim templates are core/v1 types named by reference, so this module does not depend on core's import order.
"""

from __future__ import annotations

from kubelite.api.schema.defs.meta import LabelSelector
from kubelite.api.schema.dsl import (
    Node,
    Struct,
    api_package,
    array,
    boolean,
    int32,
    int64,
    int_or_string,
    raw_extension,
    ref,
    string,
    time,
)

apps = api_package("apps", "v1")

POD_TEMPLATE_SPEC = "io.k8s.api.core.v1.PodTemplateSpec"
PERSISTENT_VOLUME_CLAIM = "io.k8s.api.core.v1.PersistentVolumeClaim"


def _condition(kind: str) -> Struct:
    """The `<Kind>Condition` of ReplicaSet, DaemonSet and StatefulSet; Deployment's has one more field."""
    return apps.struct(
        f"{kind}Condition",
        f"One aspect of a {kind}'s current state.",
        type=string("Type of the condition."),
        status=string("True, False or Unknown."),
        lastTransitionTime=time("When the status last changed."),
        reason=string("Machine-readable CamelCase reason for the last transition."),
        message=string("Human-readable details of the last transition."),
    )


def _conditions(condition: Struct, kind: str) -> Node:
    """Status conditions, merged by type (strategic merge) and keyed by type (server-side apply)."""
    return array(
        condition,
        f"The latest observations of the {kind}'s state.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    )


def _selector() -> Node:
    return ref(LabelSelector, "The pods this controller owns; must match the template.", required=True)


# ---- Deployment ----

RollingUpdateDeployment = apps.struct(
    "RollingUpdateDeployment",
    "Bounds of a rolling update, as absolute pod counts or percentages of the desired replicas.",
    maxUnavailable=int_or_string("Most pods that may be unavailable during the update; defaults to 25%."),
    maxSurge=int_or_string("Most pods allowed above the desired count while updating; defaults to 25%."),
)

DeploymentStrategy = apps.struct(
    "DeploymentStrategy",
    "How a Deployment replaces old pods with new ones.",
    type=string("Recreate or RollingUpdate (the default)."),
    rollingUpdate=ref(RollingUpdateDeployment, "Parameters when type is RollingUpdate."),
)

DeploymentSpec = apps.struct(
    "DeploymentSpec",
    "The desired state of a Deployment.",
    replicas=int32("Number of desired pods; defaults to 1."),
    selector=_selector(),
    template=ref(POD_TEMPLATE_SPEC, "The pods to create; restartPolicy must be Always.", required=True),
    strategy=ref(
        DeploymentStrategy,
        "How old pods are replaced; switching type drops the other type's parameters.",
        strategy="retainKeys",
    ),
    minReadySeconds=int32("Seconds a new pod must be ready, without crashing, to count as available."),
    revisionHistoryLimit=int32("Old ReplicaSets kept for rollback; defaults to 10."),
    paused=boolean("Stops the controller from rolling out template changes."),
    progressDeadlineSeconds=int32("Seconds without progress before the rollout is failed; default 600."),
)

DeploymentCondition = apps.struct(
    "DeploymentCondition",
    "One aspect of a Deployment's current state.",
    type=string("Type of the condition."),
    status=string("True, False or Unknown."),
    lastUpdateTime=time("When the condition was last refreshed, changed or not."),
    lastTransitionTime=time("When the status last changed."),
    reason=string("Machine-readable CamelCase reason for the last transition."),
    message=string("Human-readable details of the last transition."),
)

DeploymentStatus = apps.struct(
    "DeploymentStatus",
    "The most recently observed state of a Deployment.",
    observedGeneration=int64("The metadata.generation the controller last acted on."),
    replicas=int32("Pods targeted by this Deployment, not counting terminating ones."),
    updatedReplicas=int32("Pods that run the current template."),
    readyReplicas=int32("Pods whose Ready condition is true."),
    availableReplicas=int32("Pods ready for at least minReadySeconds."),
    unavailableReplicas=int32("Pods still needed for the Deployment to be fully available."),
    terminatingReplicas=int32("Pods being terminated (deletionTimestamp set) but not yet gone."),
    conditions=_conditions(DeploymentCondition, "Deployment"),
    collisionCount=int32("Count of pod template hash collisions, mixed into new ReplicaSet names."),
)

Deployment = apps.kind(
    "Deployment",
    "Declarative updates for a set of identical pods, rolled out through ReplicaSets.",
    spec=ref(DeploymentSpec, "The desired behaviour of the Deployment.", required=True),
    status=ref(DeploymentStatus, "The observed state; written by the controller."),
)
DeploymentList = apps.list_of(Deployment)

# ---- ReplicaSet ----

ReplicaSetSpec = apps.struct(
    "ReplicaSetSpec",
    "The desired state of a ReplicaSet.",
    replicas=int32("Number of desired pods; defaults to 1."),
    minReadySeconds=int32("Seconds a new pod must be ready, without crashing, to count as available."),
    selector=_selector(),
    template=ref(POD_TEMPLATE_SPEC, "The pods to create when too few match the selector."),
)

ReplicaSetCondition = _condition("ReplicaSet")

ReplicaSetStatus = apps.struct(
    "ReplicaSetStatus",
    "The most recently observed state of a ReplicaSet.",
    replicas=int32("Pods currently matched, not counting terminating ones.", required=True),
    fullyLabeledReplicas=int32("Pods whose labels match the template's labels."),
    readyReplicas=int32("Pods whose Ready condition is true."),
    availableReplicas=int32("Pods ready for at least minReadySeconds."),
    terminatingReplicas=int32("Pods being terminated (deletionTimestamp set) but not yet gone."),
    observedGeneration=int64("The metadata.generation the controller last acted on."),
    conditions=_conditions(ReplicaSetCondition, "ReplicaSet"),
)

ReplicaSet = apps.kind(
    "ReplicaSet",
    "Keeps a given number of pod replicas running.",
    spec=ref(ReplicaSetSpec, "The desired behaviour of the ReplicaSet.", required=True),
    status=ref(ReplicaSetStatus, "The observed state; written by the controller."),
)
ReplicaSetList = apps.list_of(ReplicaSet)

# ---- DaemonSet ----

RollingUpdateDaemonSet = apps.struct(
    "RollingUpdateDaemonSet",
    "Bounds of a DaemonSet rolling update, as node counts or percentages of the eligible nodes.",
    maxUnavailable=int_or_string("Most nodes whose daemon pod may be unavailable; defaults to 1."),
    maxSurge=int_or_string("Most nodes that may run an old and a new pod at once; defaults to 0."),
)

DaemonSetUpdateStrategy = apps.struct(
    "DaemonSetUpdateStrategy",
    "How a DaemonSet replaces its pods when the template changes.",
    type=string("RollingUpdate (the default) or OnDelete."),
    rollingUpdate=ref(RollingUpdateDaemonSet, "Parameters when type is RollingUpdate."),
)

DaemonSetSpec = apps.struct(
    "DaemonSetSpec",
    "The desired state of a DaemonSet.",
    selector=_selector(),
    template=ref(POD_TEMPLATE_SPEC, "The pod to run on every eligible node.", required=True),
    updateStrategy=ref(DaemonSetUpdateStrategy, "How pods are replaced when the template changes."),
    minReadySeconds=int32("Seconds a new pod must be ready, without crashing, to count as available."),
    revisionHistoryLimit=int32("Old ControllerRevisions kept for rollback; defaults to 10."),
)

DaemonSetCondition = _condition("DaemonSet")

DaemonSetStatus = apps.struct(
    "DaemonSetStatus",
    "The most recently observed state of a DaemonSet.",
    currentNumberScheduled=int32("Nodes running at least one daemon pod that should run it.", required=True),
    numberMisscheduled=int32("Nodes running a daemon pod that should not run it.", required=True),
    desiredNumberScheduled=int32("Nodes that should run the daemon pod.", required=True),
    numberReady=int32("Nodes whose daemon pod is ready.", required=True),
    observedGeneration=int64("The metadata.generation the controller last acted on."),
    updatedNumberScheduled=int32("Nodes running the current template's pod."),
    numberAvailable=int32("Nodes whose daemon pod has been ready for at least minReadySeconds."),
    numberUnavailable=int32("Nodes that should run an available daemon pod but do not."),
    collisionCount=int32("Count of revision hash collisions, mixed into new ControllerRevision names."),
    conditions=_conditions(DaemonSetCondition, "DaemonSet"),
)

DaemonSet = apps.kind(
    "DaemonSet",
    "Runs one copy of a pod on every eligible node.",
    spec=ref(DaemonSetSpec, "The desired behaviour of the DaemonSet.", required=True),
    status=ref(DaemonSetStatus, "The observed state; written by the controller."),
)
DaemonSetList = apps.list_of(DaemonSet)

# ---- StatefulSet ----

RollingUpdateStatefulSetStrategy = apps.struct(
    "RollingUpdateStatefulSetStrategy",
    "Parameters of a StatefulSet rolling update.",
    partition=int32("Only pods with an ordinal at or above this are updated; defaults to 0."),
    maxUnavailable=int_or_string("Most pods that may be unavailable during the update; defaults to 1."),
)

StatefulSetUpdateStrategy = apps.struct(
    "StatefulSetUpdateStrategy",
    "How a StatefulSet replaces its pods when the template changes.",
    type=string("RollingUpdate (the default), OnDelete or Recreate."),
    rollingUpdate=ref(RollingUpdateStatefulSetStrategy, "Parameters when type is RollingUpdate."),
)

StatefulSetPersistentVolumeClaimRetentionPolicy = apps.struct(
    "StatefulSetPersistentVolumeClaimRetentionPolicy",
    "What happens to the claims created from volumeClaimTemplates when pods go away.",
    whenDeleted=string("Retain (the default) or Delete the claims when the StatefulSet is deleted."),
    whenScaled=string("Retain (the default) or Delete the claims of pods removed by a scale-down."),
)

StatefulSetOrdinals = apps.struct(
    "StatefulSetOrdinals",
    "How replica ordinals are numbered.",
    start=int32("The first ordinal; replicas take start .. start+replicas-1. Defaults to 0."),
)

StatefulSetSpec = apps.struct(
    "StatefulSetSpec",
    "The desired state of a StatefulSet.",
    replicas=int32("Number of desired pods; defaults to 1."),
    selector=_selector(),
    template=ref(POD_TEMPLATE_SPEC, "The pods to create, each with a stable identity.", required=True),
    volumeClaimTemplates=array(
        ref(PERSISTENT_VOLUME_CLAIM),
        "Claims each pod gets its own copy of, mounted by the template's volumes of the same name.",
        list_type="atomic",
    ),
    serviceName=string("Headless Service giving the pods their network identity (pod.service.ns.svc)."),
    podManagementPolicy=string("OrderedReady (the default) or Parallel pod creation and deletion."),
    updateStrategy=ref(StatefulSetUpdateStrategy, "How pods are replaced when the template changes."),
    revisionHistoryLimit=int32("Old ControllerRevisions kept for rollback; defaults to 10."),
    minReadySeconds=int32("Seconds a new pod must be ready, without crashing, to count as available."),
    persistentVolumeClaimRetentionPolicy=ref(
        StatefulSetPersistentVolumeClaimRetentionPolicy, "Lifecycle of the claims of volumeClaimTemplates."
    ),
    ordinals=ref(StatefulSetOrdinals, "Numbering of the replica ordinals."),
)

StatefulSetCondition = _condition("StatefulSet")

StatefulSetStatus = apps.struct(
    "StatefulSetStatus",
    "The most recently observed state of a StatefulSet.",
    observedGeneration=int64("The metadata.generation the controller last acted on."),
    replicas=int32("Pods created by the controller.", required=True),
    readyReplicas=int32("Pods whose Ready condition is true."),
    currentReplicas=int32("Pods of the currentRevision."),
    updatedReplicas=int32("Pods of the updateRevision."),
    currentRevision=string("Revision that generated the pods 0 .. currentReplicas-1."),
    updateRevision=string("Revision that generates the pods being updated."),
    collisionCount=int32("Count of revision hash collisions, mixed into new ControllerRevision names."),
    conditions=_conditions(StatefulSetCondition, "StatefulSet"),
    availableReplicas=int32("Pods ready for at least minReadySeconds."),
)

StatefulSet = apps.kind(
    "StatefulSet",
    "Runs pods with stable names, network identities and storage, created and updated in order.",
    spec=ref(StatefulSetSpec, "The desired behaviour of the StatefulSet.", required=True),
    status=ref(StatefulSetStatus, "The observed state; written by the controller."),
)
StatefulSetList = apps.list_of(StatefulSet)

# ---- ControllerRevision ----

ControllerRevision = apps.kind(
    "ControllerRevision",
    "An immutable snapshot of a controller's state, kept so DaemonSets and StatefulSets can roll back.",
    data=raw_extension("The serialized state of this revision.", required=True),
    revision=int64("Position of this revision in the controller's history."),
)
ControllerRevisionList = apps.list_of(ControllerRevision)
