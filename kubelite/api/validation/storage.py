"""PersistentVolumes, PersistentVolumeClaims and StorageClasses.

A volume has a storage capacity, access modes and exactly one source, which never changes; a claim asks
for access modes and a storage size and is immutable except for its size (which may only grow) and, once,
its volumeName. A StorageClass names its provisioner and never changes its parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api.quantity import parse
from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.claims import VOLUME_MODES, access_modes, claim_spec, class_name
from kubelite.api.validation.resources import quantities
from kubelite.api.validation.scheduling import node_selector
from kubelite.api.validation.volumes import no_backsteps, source

RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
PV_SOURCES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
)
_PV_REQUIRED = {"local": ("path",), "csi": ("driver", "volumeHandle")}


def _pv_source(spec: Mapping[str, Any], path: str) -> list[Cause]:
    """Exactly one volume source; the pod-volume rules apply to the sources both kinds share."""
    chosen = [kind for kind in PV_SOURCES if spec.get(kind) is not None]
    if not chosen:
        return [e.required(path, "must specify a volume type")]
    found = [
        e.forbidden(e.child(path, kind), "may not specify more than 1 volume type") for kind in chosen[1:]
    ]
    kind = chosen[0]
    if kind in _PV_REQUIRED:
        found += [e.required(e.child(path, kind, f)) for f in _PV_REQUIRED[kind] if not spec[kind].get(f)]
        if kind == "local" and spec[kind].get("path"):
            found += no_backsteps(spec[kind]["path"], e.child(path, kind, "path"))
        if kind == "local" and spec.get("nodeAffinity") is None:
            found.append(e.required(e.child(path, "nodeAffinity"), "Local volume requires node affinity"))
    else:
        found += [
            c for c in source({kind: spec[kind]}, path) if c.reason != "FieldValueRequired" or c.field != path
        ]
    return found


def _pv_spec(spec: Mapping[str, Any], path: str) -> list[Cause]:
    modes = spec.get("accessModes") or []
    found = [] if modes else [e.required(e.child(path, "accessModes"))]
    found += access_modes(modes, e.child(path, "accessModes"))
    capacity = spec.get("capacity") or {}
    if not capacity:
        found.append(e.required(e.child(path, "capacity")))
    if "storage" not in capacity or len(capacity) > 1:
        found.append(e.not_supported(e.child(path, "capacity"), capacity, ("storage",)))
    for name, quantity in quantities(capacity).items():
        where = e.key(e.child(path, "capacity"), name)
        if quantity.value < 0:
            found.append(e.invalid(where, int(quantity.value), "must be a valid resource quantity"))
        if quantity.value <= 0:
            found.append(e.invalid(where, str(quantity), "must be greater than zero"))
    policy = spec.get("persistentVolumeReclaimPolicy") or ""
    if policy and policy not in RECLAIM_POLICIES:
        found.append(
            e.not_supported(e.child(path, "persistentVolumeReclaimPolicy"), policy, RECLAIM_POLICIES)
        )
    affinity = spec.get("nodeAffinity")
    if affinity is not None:
        required = affinity.get("required")
        if required is None:
            found.append(
                e.required(
                    e.child(path, "nodeAffinity", "required"), "must specify required node constraints"
                )
            )
        else:
            found += node_selector(required, e.child(path, "nodeAffinity", "required"))
    found += _pv_source(spec, path)
    host_path = (spec.get("hostPath") or {}).get("path")
    if host_path and host_path.rstrip("/") == "" and policy == "Recycle":
        found.append(
            e.forbidden(
                e.child(path, "persistentVolumeReclaimPolicy"),
                "may not be 'recycle' for a hostPath mount of '/'",
            )
        )
    found += class_name(spec.get("storageClassName"), e.child(path, "storageClassName"))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        found.append(e.not_supported(e.child(path, "volumeMode"), mode, VOLUME_MODES))
    return found


def validate_persistent_volume(volume: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        volume.get("metadata") or {}, namespaced=False, name_rule=names.name_is_dns_subdomain
    )
    return found + _pv_spec(volume.get("spec") or {}, "spec")


def validate_persistent_volume_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = validate_persistent_volume(new)
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    source_fields = set(PV_SOURCES)
    if {k: v for k, v in spec.items() if k in source_fields} != {
        k: v for k, v in old_spec.items() if k in source_fields
    }:
        found.append(
            e.forbidden(
                "spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"
            )
        )
    found += e.immutable("volumeMode", spec.get("volumeMode"), old_spec.get("volumeMode"))
    if old_spec.get("nodeAffinity") is not None and spec.get("nodeAffinity") != old_spec.get("nodeAffinity"):
        detail = "field is immutable, except for updating from beta label to GA"
        found.append(e.invalid("nodeAffinity", spec.get("nodeAffinity"), detail))
    return found


def validate_persistent_volume_claim(claim: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(claim.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain)
    return found + claim_spec(claim.get("spec") or {}, "spec")


def _storage(spec: Mapping[str, Any]) -> Any:
    return ((spec.get("resources") or {}).get("requests") or {}).get("storage")


def validate_persistent_volume_claim_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    found += validate_persistent_volume_claim(new)
    spec, old_spec = dict(new.get("spec") or {}), dict(old.get("spec") or {})
    if not old_spec.get("volumeName"):
        # The binder may set volumeName once.
        old_spec.pop("volumeName", None)
        spec.pop("volumeName", None)
    if old_spec.get("storageClassName") is None and spec.get("storageClassName") is not None:
        old_annotation = ((old.get("metadata") or {}).get("annotations") or {}).get(
            "volume.beta.kubernetes.io/storage-class"
        )
        if old_annotation is None or old_annotation == spec["storageClassName"]:
            spec.pop("storageClassName")
    bound = (new.get("status") or {}).get("phase") == "Bound"
    comparable_new, comparable_old = dict(spec), dict(old_spec)
    if bound:
        for field in ("resources", "volumeAttributesClassName"):
            comparable_new.pop(field, None)
            comparable_old.pop(field, None)
    if comparable_new != comparable_old:
        detail = "spec is immutable after creation except resources.requests and volumeAttributesClassName "
        detail += "for bound claims"
        found.append(e.forbidden("spec", detail))
    size, old_size = _storage(spec), _storage(old_spec)
    if size is not None and old_size is not None and parse(size).value < parse(old_size).value:
        found.append(
            e.forbidden("spec.resources.requests.storage", "field can not be less than previous value")
        )
    return found + e.immutable(
        "volumeMode", (new.get("spec") or {}).get("volumeMode"), (old.get("spec") or {}).get("volumeMode")
    )


def validate_storage_class(storage_class: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        storage_class.get("metadata") or {}, namespaced=False, name_rule=names.name_is_dns_subdomain
    )
    provisioner = storage_class.get("provisioner") or ""
    if not provisioner:
        found.append(e.required("provisioner"))
    else:
        found += m.qualified_name(provisioner.lower(), "provisioner")
    parameters = storage_class.get("parameters") or {}
    if len(parameters) > 512:
        found.append(e.too_long("parameters", 512))
    found += [e.invalid("parameters", k, "field can not be empty.") for k in parameters if not k]
    if sum(len(k) + len(v) for k, v in parameters.items()) > 256 * 1024:
        found.append(e.too_long("parameters", 256 * 1024))
    policy = storage_class.get("reclaimPolicy")
    if policy and policy not in ("Delete", "Retain"):
        found.append(e.not_supported("reclaimPolicy", policy, ("Delete", "Retain")))
    mode = storage_class.get("volumeBindingMode")
    if mode is None:
        found.append(e.required("volumeBindingMode"))
    elif mode not in ("Immediate", "WaitForFirstConsumer"):
        found.append(e.not_supported("volumeBindingMode", mode, ("Immediate", "WaitForFirstConsumer")))
    return found


def validate_storage_class_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    if (new.get("parameters") or {}) != (old.get("parameters") or {}):
        found.append(e.forbidden("parameters", "updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        found.append(e.forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        found.append(e.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    return found + e.immutable(
        "volumeBindingMode", new.get("volumeBindingMode"), old.get("volumeBindingMode")
    )
