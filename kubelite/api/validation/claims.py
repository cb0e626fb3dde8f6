"""PersistentVolumeClaim specs, shared by claims, ephemeral volumes and StatefulSet claim templates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api.quantity import parse
from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.resources import quantity_value

ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")


def access_modes(modes: list[str], path: str) -> list[Cause]:
    """Known modes only, and ReadWriteOncePod alone."""
    found = [e.not_supported(path, mode, ACCESS_MODES) for mode in modes if mode not in ACCESS_MODES]
    if "ReadWriteOncePod" in modes and any(
        mode in ACCESS_MODES and mode != "ReadWriteOncePod" for mode in modes
    ):
        found.append(e.forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return found


def class_name(value: str | None, path: str) -> list[Cause]:
    return [e.invalid(path, value, msg) for msg in names.is_dns1123_subdomain(value)] if value else []


def _data_source(ref: Mapping[str, Any], path: str) -> list[Cause]:
    found = [e.required(e.child(path, field)) for field in ("name", "kind") if not ref.get(field)]
    group = ref.get("apiGroup") or ""
    if not group and ref.get("kind") != "PersistentVolumeClaim":
        detail = "must be 'PersistentVolumeClaim' when referencing the default apiGroup"
        found.append(e.invalid(path, ref.get("kind") or "", detail))
    if group:
        found += [
            e.invalid(e.child(path, "apiGroup"), group, msg) for msg in names.is_dns1123_subdomain(group)
        ]
    return found


def claim_spec(spec: Mapping[str, Any], path: str) -> list[Cause]:
    """ValidatePersistentVolumeClaimSpec."""
    modes = spec.get("accessModes") or []
    found = [] if modes else [e.required(e.child(path, "accessModes"), "at least 1 access mode is required")]
    if spec.get("selector") is not None:
        found += m.label_selector(spec["selector"], e.child(path, "selector"))
    found += access_modes(modes, e.child(path, "accessModes"))
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    where = e.key(e.child(path, "resources"), "storage")
    if storage is None:
        found.append(e.required(where))
    elif (size := parse(storage)).value <= 0:
        found.append(e.invalid(where, str(size), "must be greater than zero"))
    else:
        found += quantity_value("storage", size, where)
    found += class_name(spec.get("storageClassName"), e.child(path, "storageClassName"))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        found.append(e.not_supported(e.child(path, "volumeMode"), mode, VOLUME_MODES))
    if spec.get("dataSource") is not None:
        found += _data_source(spec["dataSource"], e.child(path, "dataSource"))
    if spec.get("dataSourceRef") is not None:
        found += _data_source(spec["dataSourceRef"], e.child(path, "dataSourceRef"))
    return found
