"""Which PersistentVolume a claim may bind to, as upstream's findBestMatchForClaim decides.

A volume pre-bound to the claim (spec.claimRef naming it, with its uid or none) wins as long as it is big
enough and of the claim's volume mode. Otherwise the candidates are Available volumes with no claimRef, of
the claim's class ("" = no class), whose access modes include every mode the claim asks for, matching its
selector, at least as big as requested; the smallest such volume is chosen so big volumes stay free for
claims that need them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from kubelite.api import quantity, selectors

BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
Obj = Mapping[str, Any]


def storage_class(obj: Obj) -> str:
    """The class of a volume or claim: the legacy beta annotation when present, else spec.storageClassName."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if BETA_CLASS_ANNOTATION in annotations:
        return str(annotations[BETA_CLASS_ANNOTATION])
    return str((obj.get("spec") or {}).get("storageClassName") or "")


def volume_mode(obj: Obj) -> str:
    return str((obj.get("spec") or {}).get("volumeMode") or "Filesystem")


def capacity(volume: Obj) -> Fraction:
    return _storage((volume.get("spec") or {}).get("capacity"))


def requested(claim: Obj) -> Fraction:
    return _storage(((claim.get("spec") or {}).get("resources") or {}).get("requests"))


def _storage(resources: Mapping[str, Any] | None) -> Fraction:
    try:
        return quantity.parse((resources or {}).get("storage") or 0).value
    except ValueError:
        return Fraction(0)


def is_bound_to(volume: Obj, claim: Obj) -> bool:
    """The volume's claimRef names this claim (and, if it carries a uid, this very claim)."""
    ref = (volume.get("spec") or {}).get("claimRef")
    meta = claim.get("metadata") or {}
    if not ref or ref.get("name") != meta.get("name") or ref.get("namespace") != meta.get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == meta.get("uid")


def modes_satisfied(volume: Obj, claim: Obj) -> bool:
    offered = set((volume.get("spec") or {}).get("accessModes") or ())
    return set((claim.get("spec") or {}).get("accessModes") or ()) <= offered


def mismatch(volume: Obj, claim: Obj) -> str | None:
    """Why a claim naming this volume in spec.volumeName cannot have it (checkVolumeSatisfyClaim)."""
    if capacity(volume) < requested(claim):
        return "requested PV is too small"
    if storage_class(volume) != storage_class(claim):
        return "storageClassName does not match"
    if volume_mode(volume) != volume_mode(claim):
        return "incompatible volumeMode"
    if not modes_satisfied(volume, claim):
        return "incompatible accessMode"
    return None


def _selector(claim: Obj) -> selectors.Selector:
    raw = (claim.get("spec") or {}).get("selector")
    if raw is None:
        return selectors.EVERYTHING
    try:
        return selectors.from_label_selector(raw)
    except selectors.SelectorError:
        return selectors.NOTHING


def best_match(claim: Obj, volumes: Iterable[Obj], *, delay_binding: bool = False) -> Obj | None:
    """With `delay_binding` (a WaitForFirstConsumer class) only a pre-bound volume is taken: choosing
    among free ones needs the pod's node, which is the scheduler's business."""
    want = requested(claim)
    selector = _selector(claim)
    best: Obj | None = None
    for volume in volumes:
        meta = volume.get("metadata") or {}
        if (
            capacity(volume) < want
            or volume_mode(volume) != volume_mode(claim)
            or meta.get("deletionTimestamp")
        ):
            continue
        if not modes_satisfied(volume, claim):
            continue
        if is_bound_to(volume, claim):
            return volume
        if delay_binding:
            continue
        if (volume.get("status") or {}).get("phase") != "Available" or (volume.get("spec") or {}).get(
            "claimRef"
        ):
            continue
        if not selector.matches(meta.get("labels")) or storage_class(volume) != storage_class(claim):
            continue
        if best is None or (capacity(volume), str(meta.get("name"))) < (
            capacity(best),
            str((best.get("metadata") or {}).get("name")),
        ):
            best = volume
    return best
