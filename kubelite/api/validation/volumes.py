"""Pod volumes: unique DNS-label names, exactly one source each, and the rules of the common sources.

Sources only a cloud driver would serve (GCE, AWS, Azure, vSphere...) are checked for their required
fields only; the sources kubelite's node agent serves (emptyDir, hostPath, configMap, secret,
persistentVolumeClaim, downwardAPI, projected, ephemeral) get upstream's full rules.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from typing import Any

from kubelite.api.quantity import parse
from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.claims import claim_spec

FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"
HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
DOWNWARD_FIELD_LABELS = frozenset(
    {
        "metadata.annotations",
        "metadata.labels",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.serviceAccountName",
        "spec.schedulerName",
        "status.phase",
        "status.hostIP",
        "status.hostIPs",
        "status.podIP",
        "status.podIPs",
    }
)
CONTAINER_RESOURCES = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
# Required fields of the sources checked no further, in upstream's source order.
_SIMPLE_SOURCES: dict[str, tuple[str, ...]] = {
    "gitRepo": ("repository",),
    "gcePersistentDisk": ("pdName",),
    "awsElasticBlockStore": ("volumeID",),
    "iscsi": ("targetPortal", "iqn"),
    "glusterfs": ("endpoints", "path"),
    "flocker": (),
    "rbd": ("monitors", "image"),
    "cinder": ("volumeID",),
    "cephfs": ("monitors",),
    "quobyte": ("registry", "volume"),
    "fc": (),
    "flexVolume": ("driver",),
    "azureFile": ("secretName", "shareName"),
    "vsphereVolume": ("volumePath",),
    "photonPersistentDisk": ("pdID",),
    "portworxVolume": ("volumeID",),
    "azureDisk": ("diskName", "diskURI"),
    "storageos": ("volumeName",),
    "scaleIO": ("gateway", "system", "volumeName"),
}
# Upstream's order of the volume sources: the first one set wins, the others are "more than 1".
SOURCE_ORDER = (
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
)


def volumes(
    items: list[dict[str, Any]], path: str, *, pod_name: str = ""
) -> tuple[dict[str, Any], list[Cause]]:
    """ValidateVolumes: the valid volumes by name (for mounts to refer to) and every problem."""
    found: list[Cause] = []
    valid: dict[str, Any] = {}
    for i, volume in enumerate(items):
        where = e.index(path, i)
        name = volume.get("name") or ""
        problems = source(volume, where, pod_name=pod_name)
        if not name:
            problems.append(e.required(e.child(where, "name")))
        else:
            problems += m.dns_label(name, e.child(where, "name"))
        if name in valid:
            problems.append(e.duplicate(e.child(where, "name"), name))
        if problems:
            found += problems
        else:
            valid[name] = volume
    return valid, found


def source(volume: Mapping[str, Any], path: str, *, pod_name: str = "") -> list[Cause]:
    """validateVolumeSource: exactly one source, valid by its own rules."""
    found: list[Cause] = []
    chosen = ""
    for kind in SOURCE_ORDER:
        if volume.get(kind) is None:
            continue
        if chosen:
            found.append(e.forbidden(e.child(path, kind), "may not specify more than 1 volume type"))
            continue
        chosen = kind
        found += _SOURCE_CHECKS.get(kind, _simple(kind))(volume[kind], e.child(path, kind))
        if kind == "ephemeral" and pod_name and volume.get("name"):
            claim = f"{pod_name}-{volume['name']}"
            for msg in names.is_dns1123_subdomain(claim):
                found.append(e.invalid(e.child(path, "name"), volume["name"], f'PVC name "{claim}": {msg}'))
    if not chosen:
        found.append(e.required(path, "must specify a volume type"))
    return found


def _simple(kind: str) -> Callable[[Mapping[str, Any], str], list[Cause]]:
    def check(spec: Mapping[str, Any], path: str) -> list[Cause]:
        return [e.required(e.child(path, f)) for f in _SIMPLE_SOURCES.get(kind, ()) if not spec.get(f)]

    return check


def _empty_dir(spec: Mapping[str, Any], path: str) -> list[Cause]:
    limit = spec.get("sizeLimit")
    if limit is not None and parse(limit).value < 0:
        return [e.forbidden(e.child(path, "sizeLimit"), "SizeLimit field must be a valid resource quantity")]
    return []


def _host_path(spec: Mapping[str, Any], path: str) -> list[Cause]:
    if not spec.get("path"):
        return [e.required(e.child(path, "path"))]
    found = no_backsteps(spec["path"], e.child(path, "path"))
    kind = spec.get("type")
    if kind is not None and kind not in HOST_PATH_TYPES:
        found.append(e.not_supported(e.child(path, "type"), kind, HOST_PATH_TYPES))
    return found


def _file_mode(value: int | None, path: str) -> list[Cause]:
    return [e.invalid(path, value, FILE_MODE_MSG)] if value is not None and not 0 <= value <= 0o777 else []


def _items(items: list[dict[str, Any]] | None, path: str) -> list[Cause]:
    found: list[Cause] = []
    for i, item in enumerate(items or []):
        where = e.index(path, i)
        if not item.get("key"):
            found.append(e.required(e.child(where, "key")))
        if not item.get("path"):
            found.append(e.required(e.child(where, "path")))
        found += local_non_reserved_path(item.get("path") or "", e.child(where, "path"))
        found += _file_mode(item.get("mode"), e.child(where, "mode"))
    return found


def _secret(spec: Mapping[str, Any], path: str) -> list[Cause]:
    found = [] if spec.get("secretName") else [e.required(e.child(path, "secretName"))]
    found += _file_mode(spec.get("defaultMode"), e.child(path, "defaultMode"))
    return found + _items(spec.get("items"), e.child(path, "items"))


def _config_map(spec: Mapping[str, Any], path: str) -> list[Cause]:
    found = [] if spec.get("name") else [e.required(e.child(path, "name"))]
    found += _file_mode(spec.get("defaultMode"), e.child(path, "defaultMode"))
    return found + _items(spec.get("items"), e.child(path, "items"))


def _nfs(spec: Mapping[str, Any], path: str) -> list[Cause]:
    found = [e.required(e.child(path, field)) for field in ("server", "path") if not spec.get(field)]
    if not str(spec.get("path") or "").startswith("/"):
        found.append(e.invalid(e.child(path, "path"), spec.get("path") or "", "must be an absolute path"))
    return found


def _claim(spec: Mapping[str, Any], path: str) -> list[Cause]:
    return [] if spec.get("claimName") else [e.required(e.child(path, "claimName"))]


def _downward_field(label: str) -> tuple[str, str]:
    """ConvertDownwardAPIFieldLabel for v1: the internal field path, or why there is none."""
    base, bracket, _ = label.partition("[")
    if bracket:
        if base in ("metadata.annotations", "metadata.labels"):
            return label, ""
        return "", f"field label does not support subscript: {label}"
    if label == "spec.host":  # what old v1 clients send for spec.nodeName
        return "spec.nodeName", ""
    if label in DOWNWARD_FIELD_LABELS:
        return label, ""
    return "", f"field label not supported: {label}"


def object_field_selector(selector: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> list[Cause]:
    """validateObjectFieldSelector: a v1 field path the downward API can expose."""
    api_version = selector.get("apiVersion") or ""
    if not api_version:
        return [e.required(e.child(path, "apiVersion"))]
    label = selector.get("fieldPath") or ""
    if not label:
        return [e.required(e.child(path, "fieldPath"))]
    field_path, problem = (
        _downward_field(label) if api_version == "v1" else ("", f"unsupported pod version: {api_version}")
    )
    if problem:
        return [e.invalid(e.child(path, "fieldPath"), label, f"error converting fieldPath: {problem}")]
    base, bracket, subscript = field_path.partition("[")
    if bracket and subscript.startswith("'") and subscript.endswith("']"):
        subscript = subscript[1:-2]
        if base == "metadata.annotations":
            return m.qualified_name(subscript.lower(), path)
        return m.qualified_name(subscript, path)
    if field_path not in allowed:
        return [e.not_supported(e.child(path, "fieldPath"), field_path, allowed)]
    return []


def resource_field_selector(selector: Mapping[str, Any], path: str, *, in_volume: bool) -> list[Cause]:
    resource = selector.get("resource") or ""
    if in_volume and not selector.get("containerName"):
        return [e.required(e.child(path, "containerName"))]
    if not resource:
        return [e.required(e.child(path, "resource"))]
    if resource not in CONTAINER_RESOURCES and not resource.startswith(
        ("requests.hugepages-", "limits.hugepages-")
    ):
        return [e.not_supported(e.child(path, "resource"), resource, CONTAINER_RESOURCES)]
    return []


def _downward_file(item: Mapping[str, Any], path: str) -> list[Cause]:
    found = [] if item.get("path") else [e.required(e.child(path, "path"))]
    found += local_non_reserved_path(item.get("path") or "", e.child(path, "path"))
    if item.get("fieldRef") is not None:
        found += object_field_selector(item["fieldRef"], VOLUME_FIELD_PATHS, e.child(path, "fieldRef"))
        if item.get("resourceFieldRef") is not None:
            detail = "fieldRef and resourceFieldRef can not be specified simultaneously"
            found.append(e.invalid(path, "resource", detail))
    elif item.get("resourceFieldRef") is not None:
        found += resource_field_selector(
            item["resourceFieldRef"], e.child(path, "resourceFieldRef"), in_volume=True
        )
    else:
        found.append(e.required(path, "one of fieldRef and resourceFieldRef is required"))
    return found + _file_mode(item.get("mode"), e.child(path, "mode"))


def _downward_api(spec: Mapping[str, Any], path: str) -> list[Cause]:
    found = _file_mode(spec.get("defaultMode"), e.child(path, "defaultMode"))
    for item in spec.get("items") or []:
        found += _downward_file(item, path)
    return found


def _projected(spec: Mapping[str, Any], path: str) -> list[Cause]:
    found = _file_mode(spec.get("defaultMode"), e.child(path, "defaultMode"))
    seen: set[str] = set()
    for i, projection in enumerate(spec.get("sources") or []):
        where = e.index(e.child(path, "sources"), i)
        kinds = [
            k
            for k in ("secret", "configMap", "downwardAPI", "serviceAccountToken", "clusterTrustBundle")
            if projection.get(k) is not None
        ]
        for kind in ("secret", "configMap"):
            item = projection.get(kind)
            if item is None:
                continue
            if not item.get("name"):
                found.append(e.required(e.child(where, kind, "name")))
            found += _items(item.get("items"), e.child(where, kind, "items"))
            for entry in item.get("items") or []:
                if entry.get("path") and _seen_before(entry["path"], seen):
                    found.append(e.invalid(path, item.get("name") or "", "conflicting duplicate paths"))
        downward = projection.get("downwardAPI")
        for entry in (downward or {}).get("items") or []:
            found += _downward_file(entry, e.child(where, "downwardAPI"))
            if entry.get("path") and _seen_before(entry["path"], seen):
                found.append(e.invalid(path, entry["path"], "conflicting duplicate paths"))
        token = projection.get("serviceAccountToken")
        if token is not None:
            seconds = token.get("expirationSeconds", 3600)
            if seconds < 600:
                detail = "may not specify a duration less than 10 minutes"
                found.append(
                    e.invalid(e.child(where, "serviceAccountToken", "expirationSeconds"), seconds, detail)
                )
            if seconds > 1 << 32:
                detail = "may not specify a duration larger than 2^32 seconds"
                found.append(
                    e.invalid(e.child(where, "serviceAccountToken", "expirationSeconds"), seconds, detail)
                )
            if not token.get("path"):
                found.append(e.required(e.child(path, "path")))
            else:
                found += local_non_reserved_path(token["path"], e.child(path, "path"))
        if len(kinds) > 1:
            found.append(e.forbidden(where, "may not specify more than 1 volume type per source"))
    return found


def _seen_before(target: str, seen: set[str]) -> bool:
    """Projected sources share one directory: each path may be written by one source only."""
    if target in seen:
        return True
    seen.add(target)
    return False


def _csi(spec: Mapping[str, Any], path: str) -> list[Cause]:
    driver = spec.get("driver") or ""
    where = e.child(path, "driver")
    found = [] if driver else [e.required(where)]
    if len(driver) > 63:
        found.append(e.too_long(where, 63))
    found += [e.invalid(where, driver, msg) for msg in names.is_dns1123_subdomain(driver.lower())]
    secret = spec.get("nodePublishSecretRef")
    if secret is not None and not secret.get("name"):
        found.append(e.required(e.child(path, "nodePublishSecretRef", "name")))
    return found


def _ephemeral(spec: Mapping[str, Any], path: str) -> list[Cause]:
    template = spec.get("volumeClaimTemplate")
    if template is None:
        return [e.required(e.child(path, "volumeClaimTemplate"))]
    where = e.child(path, "volumeClaimTemplate")
    found = m.template_meta(template.get("metadata"), e.child(where, "metadata"))
    extra = sorted(set(template.get("metadata") or {}) - {"labels", "annotations"})
    found += [e.forbidden(e.child(where, "metadata", name), "cannot be set") for name in extra]
    return found + claim_spec(template.get("spec") or {}, e.child(where, "spec"))


def _image(spec: Mapping[str, Any], path: str) -> list[Cause]:
    # The pod-only reference requirement is checked by the pod validation.
    return pull_policy(spec.get("pullPolicy") or "", e.child(path, "pullPolicy"))


def pull_policy(policy: str, path: str) -> list[Cause]:
    if policy in ("Always", "IfNotPresent", "Never"):
        return []
    if not policy:
        return [e.required(path)]
    return [e.not_supported(path, policy, ("Always", "IfNotPresent", "Never"))]


def no_backsteps(target: str, path: str) -> list[Cause]:
    return [e.invalid(path, target, "must not contain '..'")] if ".." in target.split("/") else []


def local_descending_path(target: str, path: str) -> list[Cause]:
    found = [e.invalid(path, target, "must be a relative path")] if posixpath.isabs(target) else []
    return found + no_backsteps(target, path)


def local_non_reserved_path(target: str, path: str) -> list[Cause]:
    found = local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        found.append(e.invalid(path, target, "must not start with '..'"))
    return found


_SOURCE_CHECKS: dict[str, Callable[[Mapping[str, Any], str], list[Cause]]] = {
    "emptyDir": _empty_dir,
    "hostPath": _host_path,
    "secret": _secret,
    "persistentVolumeClaim": _claim,
    "nfs": _nfs,
    "downwardAPI": _downward_api,
    "configMap": _config_map,
    "projected": _projected,
    "csi": _csi,
    "ephemeral": _ephemeral,
    "image": _image,
}
