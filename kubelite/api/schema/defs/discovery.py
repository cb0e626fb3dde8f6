"""discovery.k8s.io/v1: EndpointSlice, the scalable successor of core Endpoints, read by proxies and DNS."""

from __future__ import annotations

from kubelite.api.schema.dsl import api_package, array, boolean, int32, map_of, ref, string

discovery = api_package("discovery.k8s.io", "v1")

OBJECT_REFERENCE = "io.k8s.api.core.v1.ObjectReference"

EndpointConditions = discovery.struct(
    "EndpointConditions",
    "The state of one endpoint as consumers should see it.",
    ready=boolean("Should receive traffic: serving and not terminating, or the Service publishes unready."),
    serving=boolean("Ready for traffic regardless of whether it is terminating."),
    terminating=boolean("The endpoint is shutting down."),
)

ForZone = discovery.struct(
    "ForZone",
    "A zone that should route to an endpoint.",
    name=string("Name of the zone.", required=True),
)

ForNode = discovery.struct(
    "ForNode",
    "A node that should route to an endpoint.",
    name=string("Name of the node.", required=True),
)

EndpointHints = discovery.struct(
    "EndpointHints",
    "Topology hints telling consumers where an endpoint should be used.",
    forZones=array(ForZone, "Zones whose clients should use this endpoint.", list_type="atomic"),
    forNodes=array(ForNode, "Nodes whose clients should use this endpoint.", list_type="atomic"),
)

Endpoint = discovery.struct(
    "Endpoint",
    "One backend of a Service: its addresses and where it runs.",
    addresses=array(
        string(),
        "Addresses of the endpoint, of the slice's addressType; consumers use the first.",
        required=True,
        list_type="set",
    ),
    conditions=ref(EndpointConditions, "Current state of the endpoint."),
    hostname=string("DNS label the endpoint is known by inside its Service."),
    targetRef=ref(OBJECT_REFERENCE, "The object behind the endpoint, usually a pod."),
    deprecatedTopology=map_of(string(), "Deprecated topology labels; replaced by nodeName and zone."),
    nodeName=string("Node hosting the endpoint."),
    zone=string("Zone the endpoint is in."),
    hints=ref(EndpointHints, "Where consumers should use the endpoint."),
)

EndpointPort = discovery.struct(
    "EndpointPort",
    "A port the endpoints of a slice serve on.",
    atomic=True,
    name=string("Name of the port, matching the Service port's name; may be empty for a single port."),
    protocol=string("TCP (the default), UDP or SCTP.", default="TCP"),
    port=int32("Port number; unset means all ports."),
    appProtocol=string("Application protocol, such as http or kubernetes.io/h2c."),
)

EndpointSlice = discovery.kind(
    "EndpointSlice",
    "A subset of the endpoints of a Service.",
    addressType=string("IPv4, IPv6 or FQDN; every address of the slice is of this type.", required=True),
    endpoints=array(Endpoint, "The endpoints; at most 1000.", list_type="atomic"),
    ports=array(EndpointPort, "Ports every endpoint serves; empty means none.", list_type="atomic"),
)
EndpointSliceList = discovery.list_of(EndpointSlice)
