"""Defaults of the core/v1 kinds other than pods (whose spec defaults live in pods.py).

Besides upstream's SetDefaults_* functions this includes the v1 conversion rules that change what is stored
(a Secret's stringData is merged into data) and the zero values Go always serializes (a Service's
`status: {loadBalancer: {}}`), so stored objects read back as a real API server returns them.
"""

from __future__ import annotations

import base64
from typing import Any

from kubelite.api.defaults import pods
from kubelite.api.defaults.shape import as_dict, as_list, ensure_dict, fill, fill_pointer, zero_status

CLIENT_IP_TIMEOUT = 10800


def service(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    if spec is None:
        return
    fill(spec, sessionAffinity="None")
    if spec.get("sessionAffinity") == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec.get("sessionAffinity") == "ClientIP":
        client = as_dict(as_dict(spec.get("sessionAffinityConfig"), {}).get("clientIP"), {})
        if client.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": CLIENT_IP_TIMEOUT}}
    fill(spec, type="ClusterIP")
    for port in as_list(spec.get("ports")):
        port = as_dict(port)
        if port is None:
            continue
        fill(port, protocol="TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    kind = spec.get("type")
    if (
        kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and spec.get("externalIPs"))
    ) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        fill_pointer(spec, internalTrafficPolicy="Cluster")
    if kind == "LoadBalancer":
        fill_pointer(spec, allocateLoadBalancerNodePorts=True)
    # The strategy keeps clusterIPs in step with the legacy single clusterIP.
    if spec.get("clusterIP") and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    zero_status(obj, loadBalancer={})


def namespace(obj: dict[str, Any]) -> None:
    metadata = as_dict(obj.get("metadata"), {})
    name = metadata.get("name")
    if name:
        labels = ensure_dict(metadata, "labels")
        if labels is not None:
            labels["kubernetes.io/metadata.name"] = name
    fill(ensure_dict(obj, "status"), phase="Active")


def secret(obj: dict[str, Any]) -> None:
    fill(obj, type="Opaque")
    string_data = as_dict(obj.pop("stringData", None))
    if string_data:
        data = ensure_dict(obj, "data")
        if data is not None:
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()


def persistent_volume(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    fill(spec, persistentVolumeReclaimPolicy="Retain")
    fill_pointer(spec, volumeMode="Filesystem")
    fill(ensure_dict(obj, "status"), phase="Pending")


def persistent_volume_claim(obj: dict[str, Any]) -> None:
    fill_pointer(ensure_dict(obj, "spec"), volumeMode="Filesystem")
    fill(ensure_dict(obj, "status"), phase="Pending")


def endpoints(obj: dict[str, Any]) -> None:
    for subset in as_list(obj.get("subsets")):
        for port in as_list(as_dict(subset, {}).get("ports")):
            fill(as_dict(port), protocol="TCP")


def replication_controller(obj: dict[str, Any]) -> None:
    spec = ensure_dict(obj, "spec")
    if spec is None:
        return
    template = as_dict(spec.get("template"))
    labels = as_dict(as_dict(as_dict(template, {}).get("metadata"), {}).get("labels"))
    if labels is not None:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        metadata = ensure_dict(obj, "metadata")
        if metadata is not None and not metadata.get("labels"):
            metadata["labels"] = dict(labels)
    fill_pointer(spec, replicas=1)
    if template is not None:
        pods.template(template)
    zero_status(obj, replicas=0)


def pod_template(obj: dict[str, Any]) -> None:
    pods.template(ensure_dict(obj, "template"))


def node(obj: dict[str, Any]) -> None:
    status = as_dict(obj.get("status"))
    if status is not None and status.get("allocatable") is None and status.get("capacity") is not None:
        status["allocatable"] = dict(status["capacity"])


def limit_range(obj: dict[str, Any]) -> None:
    """Container limits: default limit from max, default request from the default limit, then from min."""
    for item in as_list(as_dict(obj.get("spec"), {}).get("limits")):
        item = as_dict(item)
        if item is None or item.get("type") != "Container":
            continue
        default = ensure_dict(item, "default")
        request = ensure_dict(item, "defaultRequest")
        if default is None or request is None:
            continue
        for name, value in as_dict(item.get("max"), {}).items():
            default.setdefault(name, value)
        for name, value in default.items():
            request.setdefault(name, value)
        for name, value in as_dict(item.get("min"), {}).items():
            request.setdefault(name, value)
