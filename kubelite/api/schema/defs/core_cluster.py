"""core/v1 cluster and configuration kinds: Namespace, Node, ConfigMap, Secret, ServiceAccount, Event,
ResourceQuota, LimitRange and Binding."""

from __future__ import annotations

from kubelite.api.schema.defs.core_volume import LocalObjectReference, ObjectReference
from kubelite.api.schema.dsl import (
    OBJECT_META,
    api_package,
    array,
    boolean,
    byte_string,
    int32,
    int64,
    map_of,
    micro_time,
    quantity,
    ref,
    string,
    time,
)

core = api_package("", "v1")

NamespaceSpec = core.struct(
    "NamespaceSpec",
    "Desired state of a namespace.",
    finalizers=array(
        string(), "Finalizers that must finish before the namespace is removed.", list_type="atomic"
    ),
)

NamespaceCondition = core.struct(
    "NamespaceCondition",
    "One condition of a namespace, typically about its deletion.",
    type=string("Type of the condition.", required=True),
    status=string("True, False or Unknown.", required=True),
    lastTransitionTime=time("When the status last changed."),
    reason=string("CamelCase reason for the last transition."),
    message=string("Human-readable details of the last transition."),
)

NamespaceStatus = core.struct(
    "NamespaceStatus",
    "Observed state of a namespace.",
    phase=string("Active or Terminating."),
    conditions=array(
        NamespaceCondition,
        "Current conditions.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    ),
)

Namespace = core.kind(
    "Namespace",
    "A scope for names; most objects live in one.",
    spec=ref(NamespaceSpec, "Desired state of the namespace."),
    status=ref(NamespaceStatus, "Observed state of the namespace."),
)
NamespaceList = core.list_of(Namespace, "A list of namespaces.")

ConfigMapNodeConfigSource = core.struct(
    "ConfigMapNodeConfigSource",
    "Deprecated: a ConfigMap holding kubelet configuration.",
    namespace=string("Namespace of the ConfigMap.", required=True),
    name=string("Name of the ConfigMap.", required=True),
    uid=string("UID of the ConfigMap."),
    resourceVersion=string("resourceVersion of the ConfigMap."),
    kubeletConfigKey=string("Key holding the kubelet configuration.", required=True),
)

NodeConfigSource = core.struct(
    "NodeConfigSource",
    "Deprecated: where a node's configuration comes from.",
    configMap=ref(ConfigMapNodeConfigSource, "A ConfigMap."),
)

NodePodPreemptionPolicy = core.struct(
    "NodePodPreemptionPolicy",
    "Node-level rules about preempting pods.",
    disableResizePreemption=array(
        string(), "Pod priority classes exempt from resize preemption.", list_type="set"
    ),
)

Taint = core.struct(
    "Taint",
    "A mark on a node that repels pods not tolerating it.",
    key=string("Taint key.", required=True),
    value=string("Taint value."),
    effect=string("NoSchedule, PreferNoSchedule or NoExecute.", required=True),
    timeAdded=time("When a NoExecute taint was added."),
)

NodeSpec = core.struct(
    "NodeSpec",
    "Desired state of a node.",
    podCIDR=string("Pod IP range of the node."),
    podCIDRs=array(
        string(), "Pod IP ranges, one per family, podCIDR first.", list_type="set", strategy="merge"
    ),
    providerID=string("ID of the node in the cloud provider, as <provider>://<id>."),
    unschedulable=boolean("Keep new pods off the node (cordon)."),
    taints=array(Taint, "Taints of the node.", list_type="atomic"),
    configSource=ref(NodeConfigSource, "Deprecated: source of the kubelet configuration."),
    externalID=string("Deprecated and unused."),
    podPreemptionPolicy=ref(NodePodPreemptionPolicy, "Node-level preemption rules."),
)

AttachedVolume = core.struct(
    "AttachedVolume",
    "A volume attached to a node.",
    name=string("Name of the attached volume.", required=True),
    devicePath=string("Path where the volume should be available.", required=True),
)

ContainerImage = core.struct(
    "ContainerImage",
    "An image present on a node.",
    names=array(string(), "Names and digests of the image.", list_type="atomic"),
    sizeBytes=int64("Size of the image in bytes."),
)

NodeAddress = core.struct(
    "NodeAddress",
    "An address of a node.",
    type=string("Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.", required=True),
    address=string("The address.", required=True),
)

NodeCondition = core.struct(
    "NodeCondition",
    "One condition of a node, such as Ready or MemoryPressure.",
    type=string("Type of the condition.", required=True),
    status=string("True, False or Unknown.", required=True),
    lastHeartbeatTime=time("When the condition was last reported."),
    lastTransitionTime=time("When the status last changed."),
    reason=string("CamelCase reason for the last transition."),
    message=string("Human-readable details of the last transition."),
)

NodeConfigStatus = core.struct(
    "NodeConfigStatus",
    "Deprecated: state of the node's dynamic configuration.",
    assigned=ref(NodeConfigSource, "Configuration the node should use."),
    active=ref(NodeConfigSource, "Configuration the node uses."),
    lastKnownGood=ref(NodeConfigSource, "Configuration used when the assigned one fails."),
    error=string("Problem with the configuration."),
)

DaemonEndpoint = core.struct(
    "DaemonEndpoint",
    "A port a node daemon listens on.",
    Port=int32("Port number.", required=True),
)

NodeDaemonEndpoints = core.struct(
    "NodeDaemonEndpoints",
    "Ports the node's daemons listen on.",
    kubeletEndpoint=ref(DaemonEndpoint, "Port of the kubelet."),
)

NodeFeatures = core.struct(
    "NodeFeatures",
    "Features the node's container runtime supports.",
    supplementalGroupsPolicy=boolean("Supports the supplementalGroupsPolicy field."),
)

NodeRuntimeHandlerFeatures = core.struct(
    "NodeRuntimeHandlerFeatures",
    "Features of one runtime handler.",
    recursiveReadOnlyMounts=boolean("Supports recursive read-only mounts."),
    userNamespaces=boolean("Supports user namespaces."),
)

NodeRuntimeHandler = core.struct(
    "NodeRuntimeHandler",
    "A runtime handler of the node.",
    name=string("Handler name; empty for the default."),
    features=ref(NodeRuntimeHandlerFeatures, "Its features."),
)

NodeSwapStatus = core.struct(
    "NodeSwapStatus",
    "Swap memory of a node.",
    capacity=int64("Swap size in bytes."),
)

NodeSystemInfo = core.struct(
    "NodeSystemInfo",
    "Identity and software versions of a node.",
    machineID=string("Machine ID, from /etc/machine-id.", required=True),
    systemUUID=string("System UUID, from the firmware.", required=True),
    bootID=string("ID of the current boot.", required=True),
    kernelVersion=string("Kernel version, from uname -r.", required=True),
    osImage=string("OS image, from /etc/os-release.", required=True),
    containerRuntimeVersion=string("Container runtime, as <type>://<version>.", required=True),
    kubeletVersion=string("Kubelet version.", required=True),
    kubeProxyVersion=string("Deprecated: kube-proxy version.", required=True),
    operatingSystem=string("Operating system, such as linux.", required=True),
    architecture=string("Architecture, such as amd64.", required=True),
    swap=ref(NodeSwapStatus, "Swap memory."),
    runningInUserNamespace=boolean("Whether the kubelet runs inside a user namespace."),
)

NodeStatus = core.struct(
    "NodeStatus",
    "Observed state of a node.",
    capacity=map_of(quantity(), "Total resources of the node."),
    allocatable=map_of(quantity(), "Resources available to pods."),
    phase=string("Deprecated: lifecycle phase of the node."),
    conditions=array(
        NodeCondition,
        "Current conditions.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    ),
    addresses=array(
        NodeAddress,
        "Addresses of the node.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    ),
    daemonEndpoints=ref(NodeDaemonEndpoints, "Ports of the node's daemons."),
    nodeInfo=ref(NodeSystemInfo, "Identity and versions of the node."),
    images=array(ContainerImage, "Images on the node.", list_type="atomic"),
    volumesInUse=array(string(), "Volumes in use on the node.", list_type="atomic"),
    volumesAttached=array(AttachedVolume, "Volumes attached to the node.", list_type="atomic"),
    config=ref(NodeConfigStatus, "Deprecated: dynamic configuration state."),
    runtimeHandlers=array(NodeRuntimeHandler, "Available runtime handlers.", list_type="atomic"),
    features=ref(NodeFeatures, "Features of the container runtime."),
    declaredFeatures=array(string(), "Features the node declares.", list_type="atomic"),
)

Node = core.kind(
    "Node",
    "A machine that runs pods.",
    spec=ref(NodeSpec, "Desired state of the node."),
    status=ref(NodeStatus, "Observed state of the node, reported by its kubelet."),
)
NodeList = core.list_of(Node, "A list of nodes.")

ConfigMap = core.kind(
    "ConfigMap",
    "Configuration data for pods, as keys and values.",
    immutable=boolean("If true the data cannot be changed, only the object deleted."),
    data=map_of(string(), "UTF-8 values by key."),
    binaryData=map_of(byte_string(), "Binary values by key, base64 in JSON."),
)
ConfigMapList = core.list_of(ConfigMap, "A list of config maps.")

Secret = core.kind(
    "Secret",
    "Sensitive data, such as passwords or keys, as keys and values.",
    immutable=boolean("If true the data cannot be changed, only the object deleted."),
    data=map_of(byte_string(), "Values by key, base64 in JSON."),
    stringData=map_of(string(), "Write-only convenience: plain values merged into data."),
    type=string("Type of the secret, such as Opaque or kubernetes.io/tls."),
)
SecretList = core.list_of(Secret, "A list of secrets.")

ServiceAccount = core.kind(
    "ServiceAccount",
    "An identity for processes running in pods.",
    secrets=array(
        ObjectReference,
        "Deprecated: Secrets holding tokens of the account.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
    imagePullSecrets=array(LocalObjectReference, "Registry credentials added to pods.", list_type="atomic"),
    automountServiceAccountToken=boolean("Whether pods mount a token of the account by default."),
)
ServiceAccountList = core.list_of(ServiceAccount, "A list of service accounts.")

EventSeries = core.struct(
    "EventSeries",
    "A series of repeated events.",
    count=int32("Occurrences so far."),
    lastObservedTime=micro_time("When the last occurrence was seen."),
)

EventSource = core.struct(
    "EventSource",
    "The component reporting an event.",
    component=string("Component name."),
    host=string("Node name."),
)

Event = core.kind(
    "Event",
    "A report of something that happened to an object.",
    metadata=ref(OBJECT_META, "Standard object metadata.", required=True),
    involvedObject=ref(ObjectReference, "The object the event is about.", required=True),
    reason=string("Short CamelCase reason, such as Scheduled."),
    message=string("Human-readable description."),
    source=ref(EventSource, "The reporting component."),
    firstTimestamp=time("When the event was first seen."),
    lastTimestamp=time("When the event was last seen."),
    count=int32("Times the event has happened."),
    type=string("Normal or Warning."),
    eventTime=micro_time("When the event was first observed, precisely."),
    series=ref(EventSeries, "The series the event belongs to."),
    action=string("Action taken or failed on the object."),
    related=ref(ObjectReference, "A second object involved."),
    reportingComponent=string("Controller that reported the event, such as kubelet."),
    reportingInstance=string("Instance of that controller, such as the node name."),
)
EventList = core.list_of(Event, "A list of events.")

ScopedResourceSelectorRequirement = core.struct(
    "ScopedResourceSelectorRequirement",
    "A condition on a quota scope.",
    scopeName=string("The scope, such as PriorityClass.", required=True),
    operator=string("In, NotIn, Exists or DoesNotExist.", required=True),
    values=array(string(), "Values for In and NotIn.", list_type="atomic"),
)

ScopeSelector = core.struct(
    "ScopeSelector",
    "Conditions on quota scopes, all ANDed.",
    atomic=True,
    matchExpressions=array(ScopedResourceSelectorRequirement, "The conditions.", list_type="atomic"),
)

ResourceQuotaSpec = core.struct(
    "ResourceQuotaSpec",
    "Hard limits of a quota.",
    hard=map_of(quantity(), "Limit of each resource."),
    scopes=array(string(), "Scopes the objects counted must match.", list_type="atomic"),
    scopeSelector=ref(ScopeSelector, "Further scope conditions."),
)

ResourceQuotaStatus = core.struct(
    "ResourceQuotaStatus",
    "Enforced limits and observed use of a quota.",
    hard=map_of(quantity(), "Limits being enforced."),
    used=map_of(quantity(), "Current use."),
)

ResourceQuota = core.kind(
    "ResourceQuota",
    "Limits on the total resource use of a namespace.",
    spec=ref(ResourceQuotaSpec, "Desired limits."),
    status=ref(ResourceQuotaStatus, "Enforced limits and use."),
)
ResourceQuotaList = core.list_of(ResourceQuota, "A list of resource quotas.")

LimitRangeItem = core.struct(
    "LimitRangeItem",
    "Limits for one kind of object: Pod, Container or PersistentVolumeClaim.",
    type=string("Kind the limits apply to.", required=True),
    max=map_of(quantity(), "Most of each resource an object may use."),
    min=map_of(quantity(), "Least of each resource an object must ask for."),
    default=map_of(quantity(), "Limits given to containers that set none."),
    defaultRequest=map_of(quantity(), "Requests given to containers that set none."),
    maxLimitRequestRatio=map_of(quantity(), "Largest allowed limit-to-request ratio."),
)

LimitRangeSpec = core.struct(
    "LimitRangeSpec",
    "The limits of a LimitRange.",
    limits=array(LimitRangeItem, "Limits per kind of object.", required=True, list_type="atomic"),
)

LimitRange = core.kind(
    "LimitRange",
    "Per-object resource limits and defaults in a namespace.",
    spec=ref(LimitRangeSpec, "The limits."),
)
LimitRangeList = core.list_of(LimitRange, "A list of limit ranges.")

Binding = core.kind(
    "Binding",
    "Ties one object to another; the scheduler binds pods to nodes with it.",
    target=ref(ObjectReference, "The object to bind to, such as a node.", required=True),
)
