"""core/v1 Service, Endpoints and ReplicationController."""

from __future__ import annotations

from kubelite.api.schema.defs.core_pod import PodTemplateSpec
from kubelite.api.schema.defs.core_volume import ObjectReference
from kubelite.api.schema.defs.meta import Condition
from kubelite.api.schema.dsl import (
    api_package,
    array,
    boolean,
    int32,
    int64,
    int_or_string,
    map_of,
    ref,
    string,
    time,
)

core = api_package("", "v1")

ServicePort = core.struct(
    "ServicePort",
    "A port a Service exposes, and where it sends the traffic.",
    name=string("Name of the port, unique in the Service; required when there are several."),
    protocol=string("TCP (default), UDP or SCTP.", default="TCP"),
    appProtocol=string("Application protocol, such as http or kubernetes.io/h2c."),
    port=int32("Port the Service listens on.", required=True),
    targetPort=int_or_string("Port number or name on the pods; defaults to port."),
    nodePort=int32("Port opened on every node, for NodePort and LoadBalancer Services."),
)

ClientIPConfig = core.struct(
    "ClientIPConfig",
    "Settings of client IP session affinity.",
    timeoutSeconds=int32("How long a session sticks; defaults to 10800 (3 hours)."),
)

SessionAffinityConfig = core.struct(
    "SessionAffinityConfig",
    "Settings of session affinity.",
    clientIP=ref(ClientIPConfig, "Settings of client IP affinity."),
)

ServiceSpec = core.struct(
    "ServiceSpec",
    "Desired state of a Service: its ports, the pods it selects and how it is exposed.",
    ports=array(
        ServicePort,
        "Ports the Service exposes.",
        list_type="map",
        map_keys=("port", "protocol"),
        merge_key="port",
        strategy="merge",
    ),
    selector=map_of(string(), "Labels of the pods traffic goes to.", map_type="atomic"),
    clusterIP=string("Virtual IP of the Service; None makes it headless."),
    clusterIPs=array(string(), "Virtual IPs, one per family, clusterIP first.", list_type="atomic"),
    type=string("ClusterIP (default), NodePort, LoadBalancer or ExternalName."),
    externalIPs=array(string(), "Extra IPs the nodes accept traffic for.", list_type="atomic"),
    sessionAffinity=string("None (default) or ClientIP."),
    loadBalancerIP=string("Deprecated: IP asked of the load balancer."),
    loadBalancerSourceRanges=array(string(), "Client CIDRs the load balancer admits.", list_type="atomic"),
    externalName=string("DNS name returned as a CNAME, for ExternalName Services."),
    externalTrafficPolicy=string("Cluster (default) or Local: where external traffic may go."),
    healthCheckNodePort=int32("Node port for load balancer health checks, with Local policy."),
    publishNotReadyAddresses=boolean("Publish addresses of pods that are not ready."),
    sessionAffinityConfig=ref(SessionAffinityConfig, "Settings of session affinity."),
    ipFamilies=array(string(), "IP families of the Service, IPv4 and/or IPv6.", list_type="atomic"),
    ipFamilyPolicy=string("SingleStack, PreferDualStack or RequireDualStack."),
    allocateLoadBalancerNodePorts=boolean("Allocate node ports for LoadBalancer Services; defaults to true."),
    loadBalancerClass=string("Load balancer implementation to use."),
    internalTrafficPolicy=string("Cluster (default) or Local: where in-cluster traffic may go."),
    trafficDistribution=string("Preference for how traffic is spread, such as PreferClose."),
)

PortStatus = core.struct(
    "PortStatus",
    "Error state of one port of a load balancer.",
    port=int32("Port number.", required=True),
    protocol=string("TCP, UDP or SCTP.", required=True),
    error=string("CamelCase error of the port, if any."),
)

LoadBalancerIngress = core.struct(
    "LoadBalancerIngress",
    "An address where the load balancer accepts traffic.",
    ip=string("IP of the ingress point."),
    hostname=string("Host name of the ingress point."),
    ipMode=string("VIP or Proxy: how traffic reaches the node."),
    ports=array(PortStatus, "Status of each port.", list_type="atomic"),
)

LoadBalancerStatus = core.struct(
    "LoadBalancerStatus",
    "State of a load balancer.",
    ingress=array(LoadBalancerIngress, "Ingress points of the load balancer.", list_type="atomic"),
)

ServiceStatus = core.struct(
    "ServiceStatus",
    "Observed state of a Service.",
    loadBalancer=ref(LoadBalancerStatus, "State of the load balancer, if any."),
    conditions=array(
        Condition,
        "Current conditions of the Service.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    ),
)

Service = core.kind(
    "Service",
    "A stable virtual address and DNS name in front of a set of pods.",
    spec=ref(ServiceSpec, "Desired state of the Service."),
    status=ref(ServiceStatus, "Observed state of the Service."),
)
ServiceList = core.list_of(Service, "A list of services.")

EndpointAddress = core.struct(
    "EndpointAddress",
    "One IP address serving a Service.",
    atomic=True,
    ip=string("The IP.", required=True),
    hostname=string("Host name of the endpoint."),
    nodeName=string("Node the endpoint runs on."),
    targetRef=ref(ObjectReference, "The object, usually a pod, behind the endpoint."),
)

EndpointPort = core.struct(
    "EndpointPort",
    "One port of the endpoints.",
    atomic=True,
    name=string("Name, matching the Service port's name."),
    port=int32("Port number.", required=True),
    protocol=string("TCP (default), UDP or SCTP.", default="TCP"),
    appProtocol=string("Application protocol of the port."),
)

EndpointSubset = core.struct(
    "EndpointSubset",
    "A set of addresses sharing a set of ports.",
    addresses=array(EndpointAddress, "Ready addresses.", list_type="atomic"),
    notReadyAddresses=array(EndpointAddress, "Addresses not ready yet.", list_type="atomic"),
    ports=array(EndpointPort, "Ports of all the addresses.", list_type="atomic"),
)

Endpoints = core.kind(
    "Endpoints",
    "Deprecated in favour of EndpointSlice: the addresses serving a Service.",
    subsets=array(EndpointSubset, "Sets of addresses and ports.", list_type="atomic"),
)
EndpointsList = core.list_of(Endpoints, "A list of endpoints.")

ReplicationControllerSpec = core.struct(
    "ReplicationControllerSpec",
    "Desired state of a replication controller.",
    replicas=int32("Number of pods wanted; defaults to 1."),
    minReadySeconds=int32("Seconds a new pod must be ready to count as available."),
    selector=map_of(
        string(), "Labels of the pods counted; defaults to the template's labels.", map_type="atomic"
    ),
    template=ref(PodTemplateSpec, "Template of the pods created."),
)

ReplicationControllerCondition = core.struct(
    "ReplicationControllerCondition",
    "One condition of a replication controller.",
    type=string("Type of the condition.", required=True),
    status=string("True, False or Unknown.", required=True),
    lastTransitionTime=time("When the status last changed."),
    reason=string("CamelCase reason for the last transition."),
    message=string("Human-readable details of the last transition."),
)

ReplicationControllerStatus = core.struct(
    "ReplicationControllerStatus",
    "Observed state of a replication controller.",
    replicas=int32("Number of pods observed.", required=True),
    fullyLabeledReplicas=int32("Pods whose labels match the template's."),
    readyReplicas=int32("Pods that are ready."),
    availableReplicas=int32("Pods ready for at least minReadySeconds."),
    observedGeneration=int64("The metadata.generation last acted on."),
    conditions=array(
        ReplicationControllerCondition,
        "Current conditions.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    ),
)

ReplicationController = core.kind(
    "ReplicationController",
    "Keeps a number of copies of a pod running.",
    spec=ref(ReplicationControllerSpec, "Desired state."),
    status=ref(ReplicationControllerStatus, "Observed state."),
)
ReplicationControllerList = core.list_of(ReplicationController, "A list of replication controllers.")
