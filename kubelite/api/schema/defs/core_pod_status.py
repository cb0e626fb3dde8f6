"""core/v1 PodStatus and the container statuses nested in it, as the kubelet reports them."""

from __future__ import annotations

from kubelite.api.schema.defs.core_container import ResourceRequirements
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
    time,
)

core = api_package("", "v1")

ContainerStateRunning = core.struct(
    "ContainerStateRunning",
    "The container is running.",
    startedAt=time("When the container last (re)started."),
)

ContainerStateTerminated = core.struct(
    "ContainerStateTerminated",
    "The container ran and exited.",
    exitCode=int32("Exit status of the last run.", required=True),
    signal=int32("Signal that ended the container, if any."),
    reason=string("Short CamelCase reason, such as Completed or OOMKilled."),
    message=string("Details about the termination."),
    startedAt=time("When the run began."),
    finishedAt=time("When the run ended."),
    containerID=string("Container ID, as <type>://<id>."),
)

ContainerStateWaiting = core.struct(
    "ContainerStateWaiting",
    "The container is not running yet.",
    reason=string("Short CamelCase reason, such as ContainerCreating or ImagePullBackOff."),
    message=string("Details about the wait."),
)

ContainerState = core.struct(
    "ContainerState",
    "State of a container; exactly one field is set, waiting by default.",
    waiting=ref(ContainerStateWaiting, "Details of a waiting container."),
    running=ref(ContainerStateRunning, "Details of a running container."),
    terminated=ref(ContainerStateTerminated, "Details of an exited container."),
)

LinuxContainerUser = core.struct(
    "LinuxContainerUser",
    "The Linux identity the first process of a container runs with.",
    uid=int64("Primary UID.", required=True),
    gid=int64("Primary GID.", required=True),
    supplementalGroups=array(int64(), "Supplementary GIDs.", list_type="atomic"),
)

ContainerUser = core.struct(
    "ContainerUser",
    "The identity a container's first process runs with.",
    linux=ref(LinuxContainerUser, "Identity on Linux."),
)

ResourceHealth = core.struct(
    "ResourceHealth",
    "Health of one device allocated to a container.",
    resourceID=string("Unique ID of the device.", required=True),
    health=string("Healthy, Unhealthy or Unknown."),
    message=string("Details of the health state."),
)

ResourceStatus = core.struct(
    "ResourceStatus",
    "Health of the devices of one resource allocated to a container.",
    name=string("Resource name, such as a claim name or an extended resource.", required=True),
    resources=array(ResourceHealth, "Per-device health.", list_type="map", map_keys=("resourceID",)),
)

ImageVolumeStatus = core.struct(
    "ImageVolumeStatus",
    "Status of an image volume.",
    imageRef=string("Digest of the image actually mounted.", required=True),
)

VolumeStatus = core.struct(
    "VolumeStatus",
    "Status of a mounted volume, depending on its type.",
    image=ref(ImageVolumeStatus, "Status of an image volume."),
)

VolumeMountStatus = core.struct(
    "VolumeMountStatus",
    "Status of one volume mount of a container.",
    name=string("Name of the volume.", required=True),
    mountPath=string("Path the volume is mounted at.", required=True),
    readOnly=boolean("Whether the mount is read-only."),
    recursiveReadOnly=string("Whether read-only applies to submounts: Disabled or Enabled."),
    volumeStatus=ref(VolumeStatus, "Type-specific status of the volume."),
)

ContainerStatus = core.struct(
    "ContainerStatus",
    "Current status of one container of a pod.",
    name=string("Name of the container.", required=True),
    state=ref(ContainerState, "Current state."),
    lastState=ref(ContainerState, "State of the previous run, typically its termination."),
    ready=boolean("Whether the readiness probe passes.", required=True),
    restartCount=int32("Times the container has been restarted.", required=True),
    image=string("Image the container runs.", required=True),
    imageID=string("Digest of the image the container runs.", required=True),
    containerID=string("Container ID, as <type>://<id>."),
    started=boolean("Whether the startup probe has passed."),
    allocatedResources=map_of(quantity(), "Resources the node allocated to the container."),
    resources=ref(ResourceRequirements, "Resources actually applied to the running container."),
    volumeMounts=array(
        VolumeMountStatus,
        "Status of the volume mounts.",
        list_type="map",
        map_keys=("mountPath",),
        merge_key="mountPath",
        strategy="merge",
    ),
    user=ref(ContainerUser, "Identity the first process runs with."),
    allocatedResourcesStatus=array(
        ResourceStatus,
        "Health of the allocated devices.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
    stopSignal=string("Signal that will be sent to stop the container."),
)

HostIP = core.struct(
    "HostIP",
    "An IP address of the pod's node.",
    ip=string("The address.", required=True),
)

NodeAllocatableMappedResources = core.struct(
    "NodeAllocatableMappedResources",
    "A node-allocatable resource a claim is mapped to.",
    name=string("Name of the node resource.", required=True),
    quantity=quantity("Amount allocated.", required=True),
)

NodeAllocatableOverheadResources = core.struct(
    "NodeAllocatableOverheadResources",
    "Overhead charged on a node-allocatable resource.",
    name=string("Name of the node resource.", required=True),
    perPod=quantity("Overhead charged once per pod."),
    perContainer=quantity("Overhead charged per container."),
)

NodeAllocatableResourceClaimStatus = core.struct(
    "NodeAllocatableResourceClaimStatus",
    "How a resource claim of the pod maps onto node-allocatable resources.",
    resourceClaimName=string("Name of the ResourceClaim.", required=True),
    containers=array(string(), "Containers using the claim.", list_type="set"),
    mapping=array(
        NodeAllocatableMappedResources,
        "Node resources the claim consumes.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
    overhead=array(
        NodeAllocatableOverheadResources,
        "Overhead the claim adds.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge",
    ),
)

PodCondition = core.struct(
    "PodCondition",
    "One condition of a pod, such as Ready or PodScheduled.",
    type=string("Type of the condition.", required=True),
    observedGeneration=int64("The metadata.generation the condition was computed from."),
    status=string("True, False or Unknown.", required=True),
    lastProbeTime=time("When the condition was last probed."),
    lastTransitionTime=time("When the status last changed."),
    reason=string("CamelCase reason for the last transition."),
    message=string("Human-readable details of the last transition."),
)

ContainerExtendedResourceRequest = core.struct(
    "ContainerExtendedResourceRequest",
    "Which claim request serves a container's extended resource.",
    containerName=string("Name of the container.", required=True),
    resourceName=string("Name of the extended resource.", required=True),
    requestName=string("Name of the request in the special claim.", required=True),
)

PodExtendedResourceClaimStatus = core.struct(
    "PodExtendedResourceClaimStatus",
    "The claim created for the pod's extended resource requests.",
    requestMappings=array(
        ContainerExtendedResourceRequest,
        "Container requests to claim requests.",
        required=True,
        list_type="atomic",
    ),
    resourceClaimName=string("Name of the claim.", required=True),
)

PodIP = core.struct(
    "PodIP",
    "An IP address of the pod.",
    ip=string("The address.", required=True),
)

PodResourceClaimStatus = core.struct(
    "PodResourceClaimStatus",
    "The ResourceClaim generated for a claim template of the pod.",
    name=string("Name of the entry in spec.resourceClaims.", required=True),
    resourceClaimName=string("Name of the generated ResourceClaim."),
)

VolumeHealthCondition = core.struct(
    "VolumeHealthCondition",
    "An adverse health condition of a volume.",
    status=string("Health status reported.", required=True),
    reason=string("CamelCase reason.", required=True),
    message=string("Human-readable details."),
)

PodVolumeHealth = core.struct(
    "PodVolumeHealth",
    "Health of one volume used by the pod.",
    name=string("Name of the volume.", required=True),
    healthConditions=array(
        VolumeHealthCondition,
        "Adverse conditions of the volume.",
        list_type="map",
        map_keys=("status", "reason"),
        merge_key="status",
        strategy="merge",
    ),
    lastTransitionTime=time("When the health last changed."),
)

PodStatus = core.struct(
    "PodStatus",
    "Most recently observed state of a pod.",
    observedGeneration=int64("The metadata.generation this status reflects."),
    phase=string("Pending, Running, Succeeded, Failed or Unknown."),
    conditions=array(
        PodCondition,
        "Current conditions of the pod.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    ),
    message=string("Human-readable reason for the pod's state."),
    reason=string("CamelCase reason for the pod's state, such as Evicted."),
    nominatedNodeName=string("Node the pod should go to once preemption frees room."),
    hostIP=string("Primary IP of the node the pod runs on."),
    hostIPs=array(
        HostIP, "IPs of the node, primary first.", list_type="atomic", merge_key="ip", strategy="merge"
    ),
    podIP=string("Primary IP of the pod."),
    podIPs=array(
        PodIP,
        "IPs of the pod, primary first, one per family.",
        list_type="map",
        map_keys=("ip",),
        merge_key="ip",
        strategy="merge",
    ),
    startTime=time("When the kubelet accepted the pod."),
    initContainerStatuses=array(ContainerStatus, "Status of each init container.", list_type="atomic"),
    containerStatuses=array(ContainerStatus, "Status of each container.", list_type="atomic"),
    qosClass=string("Quality of service class: Guaranteed, Burstable or BestEffort."),
    ephemeralContainerStatuses=array(
        ContainerStatus, "Status of each ephemeral container.", list_type="atomic"
    ),
    resize=string("Deprecated: state of an in-place resize."),
    resourceClaimStatuses=array(
        PodResourceClaimStatus,
        "ResourceClaims generated for the pod.",
        list_type="map",
        map_keys=("name",),
        merge_key="name",
        strategy="merge,retainKeys",
    ),
    extendedResourceClaimStatus=ref(PodExtendedResourceClaimStatus, "Claim made for extended resources."),
    allocatedResources=map_of(quantity(), "Pod-level resources the node allocated."),
    resources=ref(ResourceRequirements, "Pod-level resources actually applied."),
    nodeAllocatableResourceClaimStatuses=array(
        NodeAllocatableResourceClaimStatus,
        "Claims mapped onto node-allocatable resources.",
        list_type="map",
        map_keys=("resourceClaimName",),
        merge_key="resourceClaimName",
        strategy="merge",
    ),
    volumeHealth=array(PodVolumeHealth, "Health of the pod's volumes.", list_type="map", map_keys=("name",)),
)
