"""The Endpoints controller: for each Service with a selector, an Endpoints object listing the pods behind it.

Ready pods go to `addresses`, the others to `notReadyAddresses` (all to `addresses` when the Service sets
publishNotReadyAddresses); pods being deleted or finished, and pods without an IP, are left out. A named
targetPort is looked up in each pod's containers, so pods whose ports differ end up in different subsets.
The `kubernetes` Service has no selector: the API server keeps its Endpoints, so it is never touched here.
The helpers that pick and describe a Service's pods are shared with the EndpointSlice controller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller
from kubelite.client.frozen import thaw
from kubelite.client.informer import Informer
from kubelite.client.rest import JSON
from kubelite.controllers.context import ControllerContext

SERVICES = paths.resource("", "v1", "services")
PODS = paths.resource("", "v1", "pods")
ENDPOINTS = paths.resource("", "v1", "endpoints")
HEADLESS_LABEL = "service.kubernetes.io/headless"

PortKey = tuple[tuple[str, int, str, str], ...]  # (name, port, protocol, appProtocol) per service port


def selector_of(service: Mapping[str, Any]) -> dict[str, str]:
    return dict((service.get("spec") or {}).get("selector") or {})


def labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A Service selector (a plain map) matches labels that carry every one of its pairs."""
    return all(labels.get(key) == value for key, value in selector.items())


def is_headless(service: Mapping[str, Any]) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def selected_pods(pods: Informer, service: Mapping[str, Any]) -> list[Snapshot]:
    """The pods of the Service's namespace its selector matches, that have an IP and have not finished."""
    namespace = (service.get("metadata") or {}).get("namespace")
    selector = selector_of(service)
    return [
        pod
        for pod in pods.cache.list(namespace=namespace)
        if labels_match(selector, (pod.get("metadata") or {}).get("labels") or {})
        and (pod.get("status") or {}).get("podIP")
        and not pod_terminal(pod)
    ]


def resolve_ports(service: Mapping[str, Any], pod: Mapping[str, Any]) -> PortKey | None:
    """The pod's port for each service port; None if a named targetPort is not one of its container ports."""
    named: dict[str, tuple[int, str]] = {}
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name"):
                named[port["name"]] = (int(port["containerPort"]), port.get("protocol", "TCP"))
    resolved = []
    for port in (service.get("spec") or {}).get("ports") or ():
        protocol = port.get("protocol", "TCP")
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, str) and not target.isdigit():
            found = named.get(target)
            if found is None or found[1] != protocol:
                return None
            number = found[0]
        else:
            number = int(target)
        resolved.append((str(port.get("name", "")), number, protocol, str(port.get("appProtocol", ""))))
    return tuple(resolved)


def port_objects(ports: PortKey) -> list[JSON]:
    out = []
    for name, number, protocol, app_protocol in ports:
        port: JSON = {"port": number, "protocol": protocol}
        if name:
            port["name"] = name
        if app_protocol:
            port["appProtocol"] = app_protocol
        out.append(port)
    return out


def pod_hostname(service: Mapping[str, Any], pod: Mapping[str, Any]) -> str | None:
    """A headless Service publishes the hostname of pods whose subdomain is the Service's name."""
    spec = pod.get("spec") or {}
    name = (service.get("metadata") or {}).get("name")
    if is_headless(service) and spec.get("hostname") and spec.get("subdomain") == name:
        return str(spec["hostname"])
    return None


def target_ref(pod: Mapping[str, Any]) -> JSON:
    meta = pod.get("metadata") or {}
    return {"kind": "Pod", **{field: meta.get(field) for field in ("namespace", "name", "uid")}}


def service_labels(service: Mapping[str, Any]) -> dict[str, str]:
    labels = dict((service.get("metadata") or {}).get("labels") or {})
    if is_headless(service):
        labels[HEADLESS_LABEL] = ""
    return labels


def desired_subsets(service: Mapping[str, Any], pods: Iterable[Snapshot]) -> list[JSON]:
    publish_all = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[PortKey, dict[str, list[JSON]]] = {}
    for pod in pods:
        if (pod.get("metadata") or {}).get("deletionTimestamp") and not publish_all:
            continue
        ports = resolve_ports(service, pod)
        if ports is None or (not ports and not is_headless(service)):
            continue
        address: JSON = {"ip": pod["status"]["podIP"], "targetRef": target_ref(pod)}
        if (pod.get("spec") or {}).get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        hostname = pod_hostname(service, pod)
        if hostname:
            address["hostname"] = hostname
        kind = "addresses" if publish_all or pod_ready(pod) else "notReadyAddresses"
        groups.setdefault(ports, {"addresses": [], "notReadyAddresses": []})[kind].append(address)
    subsets = []
    for ports, addresses in sorted(groups.items()):
        subset: JSON = {k: sorted(found, key=lambda a: a["ip"]) for k, found in addresses.items() if found}
        if ports:
            subset["ports"] = port_objects(ports)
        subsets.append(subset)
    return subsets


class EndpointsController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.services = ctx.informers.informer(SERVICES)
        self.pods = ctx.informers.informer(PODS)
        self.endpoints = ctx.informers.informer(ENDPOINTS)
        self.controller = Controller("endpoint", self.reconcile, workers=2)
        self.controller.watch(self.services)
        self.controller.watch(self.endpoints)
        self.controller.watch(self.pods, keys=self.services_of_pod)

    async def run(self) -> None:
        await self.controller.run()

    def services_of_pod(self, pod: Snapshot) -> Iterable[str]:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        for service in self.services.cache.list(namespace=meta.get("namespace")):
            selector = selector_of(service)
            if selector and labels_match(selector, labels):
                yield f"{meta['namespace']}/{service['metadata']['name']}"

    async def reconcile(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        service = self.services.cache.get(key)
        existing = self.endpoints.cache.get(key)
        if service is None:
            if existing is not None:
                try:
                    await self.client.delete(ENDPOINTS, name, namespace=namespace)
                except errors.NotFound:
                    pass
            return
        if not selector_of(service):
            return  # someone else (the API server, a user) manages these Endpoints
        subsets = desired_subsets(service, selected_pods(self.pods, service))
        labels = service_labels(service)
        if existing is None:
            body = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "subsets": subsets,
            }
            try:
                await self.client.create(ENDPOINTS, body)
            except errors.AlreadyExists:
                pass  # the cache is behind; the watch brings it and we come back
            return
        if (
            list(existing.get("subsets") or []) == subsets
            and dict((existing.get("metadata") or {}).get("labels") or {}) == labels
        ):
            return
        updated = thaw(existing)
        updated["metadata"]["labels"] = labels
        updated["subsets"] = subsets
        await self.client.update(ENDPOINTS, updated)


def new_controller(ctx: ControllerContext) -> EndpointsController:
    return EndpointsController(ctx)
