"""core/v1 Pod: PodSpec with its scheduling types (affinity, tolerations, spread), Pod and PodTemplate."""

from __future__ import annotations

from kubelite.api.schema.defs.core_container import (
    AppArmorProfile,
    Container,
    EphemeralContainer,
    ResourceRequirements,
    SeccompProfile,
    SELinuxOptions,
    WindowsSecurityContextOptions,
)
from kubelite.api.schema.defs.core_pod_status import PodStatus
from kubelite.api.schema.defs.core_volume import LocalObjectReference, Volume
from kubelite.api.schema.defs.meta import LabelSelector, ObjectMeta
from kubelite.api.schema.dsl import (
    api_package,
    array,
    boolean,
    int32,
    int64,
    map_of,
    quantity,
    ref,
    string,
)

core = api_package("", "v1")

NodeSelectorRequirement = core.struct(
    "NodeSelectorRequirement",
    "A condition on one node label or field: a key, an operator and values.",
    key=string("The label key or field name.", required=True),
    operator=string("In, NotIn, Exists, DoesNotExist, Gt or Lt.", required=True),
    values=array(string(), "Values to compare with; one integer for Gt and Lt.", list_type="atomic"),
)

NodeSelectorTerm = core.struct(
    "NodeSelectorTerm",
    "Conditions on a node that must all hold; an empty term matches no node.",
    atomic=True,
    matchExpressions=array(NodeSelectorRequirement, "Conditions on node labels.", list_type="atomic"),
    matchFields=array(NodeSelectorRequirement, "Conditions on node fields.", list_type="atomic"),
)

NodeSelector = core.struct(
    "NodeSelector",
    "A node query: a node matches when any of the terms matches.",
    atomic=True,
    nodeSelectorTerms=array(NodeSelectorTerm, "The terms, ORed.", required=True, list_type="atomic"),
)

PreferredSchedulingTerm = core.struct(
    "PreferredSchedulingTerm",
    "A weighted node preference.",
    weight=int32("Weight, 1-100, added to nodes matching the preference.", required=True),
    preference=ref(NodeSelectorTerm, "The nodes preferred.", required=True),
)

NodeAffinity = core.struct(
    "NodeAffinity",
    "Rules on which nodes a pod may or should run.",
    requiredDuringSchedulingIgnoredDuringExecution=ref(NodeSelector, "Nodes the pod must run on."),
    preferredDuringSchedulingIgnoredDuringExecution=array(
        PreferredSchedulingTerm, "Nodes the pod should preferably run on.", list_type="atomic"
    ),
)

PodAffinityTerm = core.struct(
    "PodAffinityTerm",
    "A set of pods, and the topology domain in which to be near or away from them.",
    labelSelector=ref(LabelSelector, "Labels of the pods concerned."),
    namespaces=array(
        string(), "Namespaces of the pods concerned; defaults to this pod's.", list_type="atomic"
    ),
    topologyKey=string("Node label whose value defines the topology domain.", required=True),
    namespaceSelector=ref(LabelSelector, "Labels of the namespaces of the pods concerned."),
    matchLabelKeys=array(
        string(), "Label keys whose values from this pod are added to the selector.", list_type="atomic"
    ),
    mismatchLabelKeys=array(
        string(),
        "Label keys whose values from this pod must differ in the pods concerned.",
        list_type="atomic",
    ),
)

WeightedPodAffinityTerm = core.struct(
    "WeightedPodAffinityTerm",
    "A weighted pod affinity term.",
    weight=int32("Weight, 1-100, added to nodes matching the term.", required=True),
    podAffinityTerm=ref(PodAffinityTerm, "The term.", required=True),
)

PodAffinity = core.struct(
    "PodAffinity",
    "Rules to run a pod near other pods.",
    requiredDuringSchedulingIgnoredDuringExecution=array(
        PodAffinityTerm, "Terms that must hold on the chosen node.", list_type="atomic"
    ),
    preferredDuringSchedulingIgnoredDuringExecution=array(
        WeightedPodAffinityTerm, "Terms that should preferably hold.", list_type="atomic"
    ),
)

PodAntiAffinity = core.struct(
    "PodAntiAffinity",
    "Rules to run a pod away from other pods.",
    requiredDuringSchedulingIgnoredDuringExecution=array(
        PodAffinityTerm, "Terms that must not hold on the chosen node.", list_type="atomic"
    ),
    preferredDuringSchedulingIgnoredDuringExecution=array(
        WeightedPodAffinityTerm, "Terms that should preferably not hold.", list_type="atomic"
    ),
)

Affinity = core.struct(
    "Affinity",
    "Scheduling constraints of a pod relative to nodes and to other pods.",
    nodeAffinity=ref(NodeAffinity, "Constraints on nodes."),
    podAffinity=ref(PodAffinity, "Run near these pods."),
    podAntiAffinity=ref(PodAntiAffinity, "Run away from these pods."),
)

EvictionResponder = core.struct(
    "EvictionResponder",
    "A party that reacts to an eviction of the pod before it proceeds.",
    atomic=True,
    name=string("Name of the responder.", required=True),
    priority=int32("Order in which responders are consulted.", required=True),
)

HostAlias = core.struct(
    "HostAlias",
    "An entry added to the pod's /etc/hosts.",
    ip=string("IP address of the entry.", required=True),
    hostnames=array(string(), "Host names for the address.", list_type="atomic"),
)

PodDNSConfigOption = core.struct(
    "PodDNSConfigOption",
    "One resolver option.",
    name=string("Option name, such as ndots."),
    value=string("Option value."),
)

PodDNSConfig = core.struct(
    "PodDNSConfig",
    "DNS settings added to those the DNS policy generates.",
    nameservers=array(string(), "Extra name server IPs.", list_type="atomic"),
    searches=array(string(), "Extra search domains.", list_type="atomic"),
    options=array(PodDNSConfigOption, "Resolver options; these override generated ones.", list_type="atomic"),
)

PodOS = core.struct(
    "PodOS",
    "The operating system the pod's containers need.",
    name=string("linux or windows.", required=True),
)

PodReadinessGate = core.struct(
    "PodReadinessGate",
    "An extra pod condition that must be True for the pod to be ready.",
    conditionType=string("Type of the condition.", required=True),
)

PodResourceClaim = core.struct(
    "PodResourceClaim",
    "A dynamic resource claim the pod uses; exactly one source is set.",
    name=string("Name of the claim within the pod.", required=True),
    resourceClaimName=string("An existing ResourceClaim in the pod's namespace."),
    resourceClaimTemplateName=string("A ResourceClaimTemplate to make a claim for this pod from."),
)

PodSchedulingGate = core.struct(
    "PodSchedulingGate",
    "A gate that holds the pod back from scheduling until removed.",
    name=string("Name of the gate.", required=True),
)

PodSchedulingGroup = core.struct(
    "PodSchedulingGroup",
    "The scheduling group a pod belongs to.",
    podGroupName=string("Name of the pod group."),
)

Sysctl = core.struct(
    "Sysctl",
    "A namespaced kernel parameter to set.",
    name=string("Name of the parameter.", required=True),
    value=string("Value to set.", required=True),
)

PodSecurityContext = core.struct(
    "PodSecurityContext",
    "Security settings of a pod, defaults for its containers.",
    seLinuxOptions=ref(SELinuxOptions, "SELinux context of all containers."),
    windowsOptions=ref(WindowsSecurityContextOptions, "Windows-specific settings of all containers."),
    runAsUser=int64("UID to run container entrypoints as."),
    runAsGroup=int64("GID to run container entrypoints as."),
    runAsNonRoot=boolean("Refuse to start containers that would run as UID 0."),
    supplementalGroups=array(
        int64(), "Extra GIDs for the first process of each container.", list_type="atomic"
    ),
    supplementalGroupsPolicy=string("Merge (default) or Strict: how supplementary groups are computed."),
    fsGroup=int64("GID owning the pod's volumes and added to every container."),
    sysctls=array(Sysctl, "Namespaced kernel parameters to set.", list_type="atomic"),
    fsGroupChangePolicy=string("OnRootMismatch or Always: when volume ownership is changed."),
    seccompProfile=ref(SeccompProfile, "Seccomp profile of all containers."),
    appArmorProfile=ref(AppArmorProfile, "AppArmor profile of all containers."),
    seLinuxChangePolicy=string("MountOption or Recursive: how SELinux labels are applied to volumes."),
)

Toleration = core.struct(
    "Toleration",
    "Lets the pod be scheduled on, or stay on, nodes with a matching taint.",
    key=string("Taint key matched; empty with Exists matches every taint."),
    operator=string("Exists or Equal (default); Lt and Gt compare numbers."),
    value=string("Taint value matched, for Equal."),
    effect=string("Taint effect matched; empty matches every effect."),
    tolerationSeconds=int64("For NoExecute: seconds the pod stays bound after the taint appears."),
)

TopologySpreadConstraint = core.struct(
    "TopologySpreadConstraint",
    "How to spread matching pods among topology domains.",
    maxSkew=int32("Largest allowed difference in matching pods between domains.", required=True),
    topologyKey=string("Node label whose value defines the domain.", required=True),
    whenUnsatisfiable=string("DoNotSchedule or ScheduleAnyway.", required=True),
    labelSelector=ref(LabelSelector, "Labels of the pods counted."),
    minDomains=int32("Least number of eligible domains."),
    nodeAffinityPolicy=string("Honor or Ignore the pod's node affinity when counting."),
    nodeTaintsPolicy=string("Honor or Ignore node taints when counting."),
    matchLabelKeys=array(
        string(), "Label keys whose values from this pod are added to the selector.", list_type="atomic"
    ),
)

PodSpec = core.struct(
    "PodSpec",
    "Desired state of a pod: its containers, volumes and scheduling constraints.",
    volumes=array(
        Volume,
        "Volumes the containers can mount.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge,retainKeys",
    ),
    initContainers=array(
        Container,
        "Containers run one by one, to completion, before the app containers start.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
    containers=array(
        Container,
        "The app containers; at least one.",
        required=True,
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
    ephemeralContainers=array(
        EphemeralContainer,
        "Debugging containers added to the running pod.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
    restartPolicy=string("Always (default), OnFailure or Never."),
    terminationGracePeriodSeconds=int64("Seconds between the stop signal and the kill; defaults to 30."),
    activeDeadlineSeconds=int64("Seconds the pod may be active before it is failed."),
    dnsPolicy=string("ClusterFirst (default), ClusterFirstWithHostNet, Default or None."),
    nodeSelector=map_of(string(), "Labels a node must have for the pod to run there.", map_type="atomic"),
    serviceAccountName=string("Service account the pod runs as."),
    serviceAccount=string("Deprecated alias of serviceAccountName."),
    automountServiceAccountToken=boolean("Whether a service account token is mounted automatically."),
    nodeName=string("Node the pod is bound to; set by the scheduler."),
    hostNetwork=boolean("Use the node's network namespace."),
    hostPID=boolean("Use the node's process namespace."),
    hostIPC=boolean("Use the node's IPC namespace."),
    shareProcessNamespace=boolean("Share one process namespace among the pod's containers."),
    securityContext=ref(PodSecurityContext, "Pod-level security settings."),
    imagePullSecrets=array(
        LocalObjectReference,
        "Secrets with registry credentials for pulling images.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
    hostname=string("Host name of the pod; defaults to the pod name."),
    subdomain=string("Subdomain, making the FQDN <hostname>.<subdomain>.<namespace>.svc.<domain>."),
    affinity=ref(Affinity, "Scheduling constraints."),
    schedulerName=string("Scheduler that places the pod; defaults to default-scheduler."),
    tolerations=array(Toleration, "Taints the pod tolerates.", list_type="atomic"),
    hostAliases=array(
        HostAlias,
        "Entries added to /etc/hosts.",
        list_type="map",
        map_keys=("ip",),
        merge_key="ip",
        strategy="merge",
    ),
    priorityClassName=string("PriorityClass giving the pod's priority."),
    priority=int32("Priority value, resolved from priorityClassName at admission."),
    dnsConfig=ref(PodDNSConfig, "Extra DNS settings."),
    readinessGates=array(PodReadinessGate, "Extra conditions required for readiness.", list_type="atomic"),
    runtimeClassName=string("RuntimeClass to run the pod with."),
    enableServiceLinks=boolean("Inject environment variables for Services; defaults to true."),
    preemptionPolicy=string("PreemptLowerPriority (default) or Never."),
    overhead=map_of(quantity(), "Resources the pod's sandbox uses on top of its containers."),
    topologySpreadConstraints=array(
        TopologySpreadConstraint,
        "How to spread the pod's group across topology domains.",
        list_type="map",
        map_keys=("topologyKey", "whenUnsatisfiable"),
        merge_key="topologyKey",
        strategy="merge",
    ),
    setHostnameAsFQDN=boolean("Make the host name the fully qualified domain name."),
    os=ref(PodOS, "Operating system the pod needs."),
    hostUsers=boolean("Use the host's user namespace; false gives the pod its own."),
    schedulingGates=array(
        PodSchedulingGate,
        "Gates that must all be removed before the pod is scheduled.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
    resourceClaims=array(
        PodResourceClaim,
        "Dynamic resource claims the pod uses.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge,retainKeys",
    ),
    resources=ref(ResourceRequirements, "Pod-level resources shared by the containers."),
    hostnameOverride=string("Host name to use instead of the generated one."),
    schedulingGroup=ref(PodSchedulingGroup, "Scheduling group the pod belongs to."),
    evictionResponders=array(
        EvictionResponder,
        "Parties consulted before the pod is evicted.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
)

Pod = core.kind(
    "Pod",
    "A group of containers that run together on one node.",
    spec=ref(PodSpec, "Desired state of the pod."),
    status=ref(PodStatus, "Most recently observed state of the pod; written by the system."),
)
PodList = core.list_of(Pod, "A list of pods.")

PodTemplateSpec = core.struct(
    "PodTemplateSpec",
    "The metadata and spec of pods to create from a template.",
    metadata=ref(ObjectMeta, "Metadata of the pods created."),
    spec=ref(PodSpec, "Spec of the pods created."),
)

PodTemplate = core.kind(
    "PodTemplate",
    "A stored template for pods.",
    template=ref(PodTemplateSpec, "The template."),
)
PodTemplateList = core.list_of(PodTemplate, "A list of pod templates.")
