"""The EndpointSlice controller: for every Service with a selector, EndpointSlices listing the pods behind it.

Unlike Endpoints, slices keep terminating pods (with conditions ready/serving/terminating, so proxies can
drain them), hold at most 100 endpoints each, and carry the labels proxies select them by
(kubernetes.io/service-name, and endpointslice.kubernetes.io/managed-by naming this controller). Pods are
grouped by their resolved ports, as in the Endpoints controller whose helpers this shares. A Service with no
ready pods keeps one empty slice, as upstream does. Slices are owned by their Service, so the garbage
collector would remove them too; this controller deletes them itself when the Service goes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller
from kubelite.client.frozen import thaw
from kubelite.client.rest import JSON
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.endpoints import (
    PODS,
    SERVICES,
    PortKey,
    is_headless,
    labels_match,
    pod_hostname,
    pod_ready,
    port_objects,
    resolve_ports,
    selected_pods,
    selector_of,
    service_labels,
    target_ref,
)

ENDPOINTSLICES = paths.resource("discovery.k8s.io", "v1", "endpointslices")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS_PER_SLICE = 100
SERVICE_INDEX = "service-name"


def _service_key(slice_: Snapshot) -> Iterable[str]:
    meta = slice_.get("metadata") or {}
    service = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
    return (f"{meta.get('namespace')}/{service}",) if service else ()


def endpoint_of(service: Mapping[str, Any], pod: Snapshot) -> JSON:
    serving = pod_ready(pod)
    terminating = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    publish_all = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    endpoint: JSON = {
        "addresses": [pod["status"]["podIP"]],
        "conditions": {
            "ready": publish_all or (serving and not terminating),
            "serving": serving,
            "terminating": terminating,
        },
        "targetRef": target_ref(pod),
    }
    if (pod.get("spec") or {}).get("nodeName"):
        endpoint["nodeName"] = pod["spec"]["nodeName"]
    hostname = pod_hostname(service, pod)
    if hostname:
        endpoint["hostname"] = hostname
    return endpoint


SliceContent = tuple[list[JSON], list[JSON]]  # (ports, endpoints)


def desired_slices(service: Mapping[str, Any], pods: Iterable[Snapshot]) -> list[SliceContent]:
    """(ports, endpoints) of each slice the Service should have: one group per port set, cut into chunks."""
    groups: dict[PortKey, list[JSON]] = {}
    for pod in pods:
        if ":" in str(pod["status"]["podIP"]):
            continue  # these slices are IPv4
        ports = resolve_ports(service, pod)
        if ports is None or (not ports and not is_headless(service)):
            continue
        groups.setdefault(ports, []).append(endpoint_of(service, pod))
    slices = []
    for ports, endpoints in sorted(groups.items()):
        endpoints.sort(key=lambda e: str(e["addresses"][0]))
        for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            slices.append((port_objects(ports), endpoints[start : start + MAX_ENDPOINTS_PER_SLICE]))
    return slices or [([], [])]


def slice_labels(service: Mapping[str, Any]) -> dict[str, str]:
    name = (service.get("metadata") or {}).get("name", "")
    return {**service_labels(service), SERVICE_NAME_LABEL: str(name), MANAGED_BY_LABEL: MANAGED_BY}


def owner_reference(service: Mapping[str, Any]) -> JSON:
    meta = service.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


class EndpointSliceController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.services = ctx.informers.informer(SERVICES)
        self.pods = ctx.informers.informer(PODS)
        managed = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
        self.slices = ctx.informers.informer(ENDPOINTSLICES, label_selector=managed)
        self.slices.add_indexers({SERVICE_INDEX: _service_key})
        self.controller = Controller("endpointslice", self.reconcile, workers=2)
        self.controller.watch(self.services)
        self.controller.watch(self.slices, keys=_service_key)
        self.controller.watch(self.pods, keys=self.services_of_pod)

    async def run(self) -> None:
        await self.controller.run()

    def services_of_pod(self, pod: Snapshot) -> Iterable[str]:
        meta = pod.get("metadata") or {}
        for service in self.services.cache.list(namespace=meta.get("namespace")):
            selector = selector_of(service)
            if selector and labels_match(selector, meta.get("labels") or {}):
                yield f"{meta['namespace']}/{service['metadata']['name']}"

    async def reconcile(self, key: str) -> None:
        service = self.services.cache.get(key)
        existing = sorted(
            self.slices.cache.by_index(SERVICE_INDEX, key), key=lambda s: str(s["metadata"]["name"])
        )
        if service is None or not selector_of(service):
            for stale in existing:
                await self._delete(stale)
            return
        labels = slice_labels(service)
        unused = list(existing)
        for ports, endpoints in desired_slices(service, selected_pods(self.pods, service)):
            match = next((s for s in unused if list(s.get("ports") or []) == ports), None)
            if match is None:
                await self._create(service, labels, ports, endpoints)
                continue
            unused.remove(match)
            same_labels = dict(match["metadata"].get("labels") or {}) == labels
            if list(match.get("endpoints") or []) == endpoints and same_labels:
                continue
            updated = thaw(match)
            updated["metadata"]["labels"] = labels
            updated.update(ports=ports, endpoints=endpoints)
            await self.client.update(ENDPOINTSLICES, updated)
        for stale in unused:
            await self._delete(stale)

    async def _create(
        self, service: Snapshot, labels: dict[str, str], ports: list[JSON], endpoints: list[JSON]
    ) -> None:
        meta = service["metadata"]
        body = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "generateName": f"{meta['name']}-",
                "namespace": meta["namespace"],
                "labels": labels,
                "ownerReferences": [owner_reference(service)],
            },
            "addressType": "IPv4",
            "ports": ports,
            "endpoints": endpoints,
        }
        await self.client.create(ENDPOINTSLICES, body)

    async def _delete(self, slice_: Snapshot) -> None:
        meta = slice_["metadata"]
        try:
            await self.client.delete(ENDPOINTSLICES, meta["name"], namespace=meta["namespace"])
        except errors.NotFound:
            pass


def new_controller(ctx: ControllerContext) -> EndpointSliceController:
    return EndpointSliceController(ctx)
