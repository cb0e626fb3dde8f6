"""Table columns of persistentvolumes, persistentvolumeclaims and storageclasses.

Access modes print as abbreviations in a fixed order (RWO,ROX,RWX,RWOP); the storage class of a volume or
claim is the legacy beta annotation when present, else spec.storageClassName. A default storage class
carries ` (default)` after its name.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import AGE, NAME, Column, Row, age, name_of, register
from kubelite.apiserver.tables.formats import UNSET

_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
_BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _access_modes(modes: list[str] | None) -> str:
    present = set(modes or [])
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


def _storage_class(obj: dict[str, Any]) -> str:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if _BETA_CLASS_ANNOTATION in annotations:
        return str(annotations[_BETA_CLASS_ANNOTATION])
    return str((obj.get("spec") or {}).get("storageClassName") or "")


def _phase(obj: dict[str, Any]) -> str:
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return str((obj.get("status") or {}).get("phase", ""))


def _storage(resources: dict[str, Any] | None) -> str:
    return str((resources or {}).get("storage") or "0")


def _persistent_volume(pv: dict[str, Any], now: datetime.datetime) -> Row:
    spec = pv.get("spec") or {}
    claim = spec.get("claimRef")
    return [
        name_of(pv),
        _storage(spec.get("capacity")),
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        _phase(pv),
        f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
        _storage_class(pv),
        spec.get("volumeAttributesClassName") or UNSET,
        (pv.get("status") or {}).get("reason", ""),
        age(pv, now),
        spec.get("volumeMode") or UNSET,
    ]


def _persistent_volume_claim(pvc: dict[str, Any], now: datetime.datetime) -> Row:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    volume = spec.get("volumeName") or ""
    # Capacity and access modes are the bound volume's, so they stay empty until the claim is bound.
    capacity = _storage(status.get("capacity")) if volume else ""
    modes = _access_modes(status.get("accessModes")) if volume else ""
    return [
        name_of(pvc),
        _phase(pvc),
        volume,
        capacity,
        modes,
        _storage_class(pvc),
        spec.get("volumeAttributesClassName") or UNSET,
        age(pvc, now),
        spec.get("volumeMode") or UNSET,
    ]


def _storage_class_cells(sc: dict[str, Any], now: datetime.datetime) -> Row:
    annotations = (sc.get("metadata") or {}).get("annotations") or {}
    is_default = any(annotations.get(key) == "true" for key in _DEFAULT_CLASS_ANNOTATIONS)
    return [
        name_of(sc) + (" (default)" if is_default else ""),
        sc.get("provisioner", ""),
        sc.get("reclaimPolicy") or "Delete",
        sc.get("volumeBindingMode") or "Immediate",
        bool(sc.get("allowVolumeExpansion")),
        age(sc, now),
    ]


_ACCESS_MODES_COLUMN = Column("Access Modes", description="The ways the volume can be mounted.")
_VOLUME_ATTRIBUTES_CLASS = Column("VolumeAttributesClass", description="VolumeAttributesClass of the volume")
_VOLUME_MODE = Column(
    "VolumeMode", priority=1, description="Whether the volume is a filesystem or a block device."
)

register(
    "",
    "persistentvolumes",
    (
        NAME,
        Column("Capacity", description="The storage capacity of the volume."),
        _ACCESS_MODES_COLUMN,
        Column("Reclaim Policy", description="What happens to the volume when released from its claim."),
        Column("Status", description="The phase of the volume."),
        Column("Claim", description="The claim bound to this volume."),
        Column("StorageClass", description="StorageClass of the pv"),
        _VOLUME_ATTRIBUTES_CLASS,
        Column("Reason", description="A brief CamelCase string describing a failure."),
        AGE,
        _VOLUME_MODE,
    ),
    _persistent_volume,
)
register(
    "",
    "persistentvolumeclaims",
    (
        NAME,
        Column("Status", description="The phase of the claim."),
        Column("Volume", description="The volume bound to this claim."),
        Column("Capacity", description="The capacity of the bound volume."),
        _ACCESS_MODES_COLUMN,
        Column("StorageClass", description="StorageClass of the pvc"),
        _VOLUME_ATTRIBUTES_CLASS,
        AGE,
        _VOLUME_MODE,
    ),
    _persistent_volume_claim,
)
register(
    "storage.k8s.io",
    "storageclasses",
    (
        NAME,
        Column("Provisioner", description="The volume plugin that provisions volumes of this class."),
        Column("ReclaimPolicy", description="The reclaim policy of volumes provisioned from this class."),
        Column("VolumeBindingMode", description="When volumes are provisioned and bound."),
        Column("AllowVolumeExpansion", description="Whether volumes of this class may be expanded."),
        AGE,
    ),
    _storage_class_cells,
)
