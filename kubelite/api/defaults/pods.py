"""Pod spec defaults (core/v1 SetDefaults_PodSpec, _Container, _Probe, _Volume...), for pods and templates.

Every pod template of every workload is defaulted like a pod's spec; a few defaults are for Pods only
(requests copied from limits, enableServiceLinks, host ports under hostNetwork), because upstream adds
them to SetDefaults_Pod so that they never show up in templates.
"""

from __future__ import annotations

import re
from typing import Any

from kubelite.api.defaults.shape import as_dict, as_list, ensure_dict, fill, fill_pointer

_HTTP_ACTION_HOLDERS = ("livenessProbe", "readinessProbe", "startupProbe")
_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
_FILE_MODE = 0o644  # 420: configMap, secret, downwardAPI and projected volumes
_VOLUME_SOURCES = (
    "hostPath emptyDir gcePersistentDisk awsElasticBlockStore gitRepo secret nfs iscsi glusterfs "
    "persistentVolumeClaim rbd flexVolume cinder cephfs flocker downwardAPI fc azureFile configMap "
    "vsphereVolume quobyte azureDisk photonPersistentDisk projected portworxVolume scaleIO storageos csi "
    "ephemeral image"
).split()
# A docker image reference: [domain[:port]/]path[:tag][@digest], as the image-name parser accepts it.
_HOST_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::(?P<tag>[\w][\w.-]{{0,127}}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)


def image_pull_policy(image: str) -> str:
    """Always for `:latest` or an untagged image, else IfNotPresent (also for unparsable names)."""
    match = _REFERENCE.match(image)
    if not match or len(image) > 255:
        return "IfNotPresent"
    tag, digest = match.group("tag"), match.group("digest")
    return "Always" if tag == "latest" or (not tag and not digest) else "IfNotPresent"


def _http_get(action: Any) -> None:
    fill(as_dict(action), path="/", scheme="HTTP")


def _handler(handler: Any) -> None:
    handler = as_dict(handler)
    if handler is not None:
        _http_get(handler.get("httpGet"))


def _field_ref(source: Any) -> None:
    fill(as_dict(as_dict(source, {}).get("fieldRef")), apiVersion="v1")


def _resource_field_ref(source: Any) -> None:
    # Quantity is a struct upstream: an unset divisor serializes as "0".
    fill(as_dict(as_dict(source, {}).get("resourceFieldRef")), divisor="0")


def container(spec: Any) -> None:
    """SetDefaults_Container and the defaults of what a container holds."""
    spec = as_dict(spec)
    if spec is None:
        return
    fill(spec, imagePullPolicy=image_pull_policy(str(spec.get("image") or "")))
    fill(spec, terminationMessagePath="/dev/termination-log", terminationMessagePolicy="File")
    ensure_dict(spec, "resources")
    for port in as_list(spec.get("ports")):
        fill(as_dict(port), protocol="TCP")
    for variable in as_list(spec.get("env")):
        value_from = as_dict(as_dict(variable, {}).get("valueFrom"))
        _field_ref(value_from)
        _resource_field_ref(value_from)
    for name in _HTTP_ACTION_HOLDERS:
        probe = as_dict(spec.get(name))
        if probe is not None:
            fill(probe, **_PROBE_DEFAULTS)
            _handler(probe)
    lifecycle = as_dict(spec.get("lifecycle"), {})
    _handler(lifecycle.get("postStart"))
    _handler(lifecycle.get("preStop"))


def _projected(source: dict[str, Any]) -> None:
    fill_pointer(source, defaultMode=_FILE_MODE)
    for projection in as_list(source.get("sources")):
        projection = as_dict(projection, {})
        fill_pointer(as_dict(projection.get("serviceAccountToken")), expirationSeconds=3600)
        for item in as_list(as_dict(projection.get("downwardAPI"), {}).get("items")):
            _field_ref(item)
            _resource_field_ref(item)


def volume(spec: Any) -> None:
    """SetDefaults_Volume: an empty directory when no source is given, then the sources' own defaults."""
    spec = as_dict(spec)
    if spec is None:
        return
    if not any(spec.get(source) is not None for source in _VOLUME_SOURCES):
        spec["emptyDir"] = {}
    for source in ("secret", "configMap", "downwardAPI"):
        fill_pointer(as_dict(spec.get(source)), defaultMode=_FILE_MODE)
    for item in as_list(as_dict(spec.get("downwardAPI"), {}).get("items")):
        _field_ref(item)
        _resource_field_ref(item)
    projected = as_dict(spec.get("projected"))
    if projected is not None:
        _projected(projected)
    fill_pointer(as_dict(spec.get("hostPath")), type="")
    fill(as_dict(spec.get("iscsi")), iscsiInterface="default")
    fill(as_dict(spec.get("rbd")), pool="rbd", user="admin", keyring="/etc/ceph/keyring")
    fill_pointer(
        as_dict(spec.get("azureDisk")), cachingMode="ReadWrite", kind="Shared", fsType="ext4", readOnly=False
    )
    fill(as_dict(spec.get("scaleIO")), storageMode="ThinProvisioned", fsType="xfs")
    claim = as_dict(as_dict(spec.get("ephemeral"), {}).get("volumeClaimTemplate"))
    if claim is not None:
        zero_metadata(claim)
        fill_pointer(as_dict(claim.get("spec")), volumeMode="Filesystem")


def pod_spec(spec: Any) -> None:
    """SetDefaults_PodSpec and everything a pod spec contains; also the v1 serviceAccount alias."""
    spec = as_dict(spec)
    if spec is None:
        return
    fill(spec, dnsPolicy="ClusterFirst", restartPolicy="Always")
    ensure_dict(spec, "securityContext")
    fill_pointer(spec, terminationGracePeriodSeconds=30)
    fill(spec, schedulerName="default-scheduler")
    # serviceAccount is the deprecated spelling of serviceAccountName; the new field wins.
    if not spec.get("serviceAccountName") and spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for item in as_list(spec.get(kind)):
            container(item)
    for item in as_list(spec.get("volumes")):
        volume(item)


def template(template_spec: Any) -> None:
    """A PodTemplateSpec: its metadata (creationTimestamp null, as Go serializes it) and its pod spec."""
    template_spec = as_dict(template_spec)
    if template_spec is None:
        return
    zero_metadata(template_spec)
    pod_spec(template_spec.setdefault("spec", {}))


def zero_metadata(embedded: dict[str, Any]) -> None:
    """An embedded ObjectMeta serializes even when empty, with Go's zero time as creationTimestamp: null."""
    metadata = ensure_dict(embedded, "metadata")
    if metadata is not None:
        metadata.setdefault("creationTimestamp", None)


def pod(obj: dict[str, Any]) -> None:
    """SetDefaults_Pod: the pod spec, then what only Pods get."""
    spec = ensure_dict(obj, "spec")
    if spec is None:
        return
    pod_spec(spec)
    for kind in ("initContainers", "containers"):
        for item in as_list(spec.get(kind)):
            resources = as_dict(as_dict(item, {}).get("resources"), {})
            limits = as_dict(resources.get("limits"))
            if limits:
                requests = ensure_dict(resources, "requests")
                if requests is not None:
                    for name, value in limits.items():
                        requests.setdefault(name, value)
    fill_pointer(spec, enableServiceLinks=True)
    if spec.get("hostNetwork"):
        for kind in ("initContainers", "containers"):
            for item in as_list(spec.get(kind)):
                for port in as_list(as_dict(item, {}).get("ports")):
                    port = as_dict(port)
                    if port is not None and not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
