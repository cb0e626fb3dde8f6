"""Choosing a volume for a claim: pre-binding, class, access modes, selector, volume mode, smallest fit."""

from __future__ import annotations

from typing import Any

from kubelite.controllers.persistentvolume_match import best_match, mismatch


def volume(name: str, size: str, *, phase: str = "Available", **spec: Any) -> dict[str, Any]:
    labels = spec.pop("labels", {})
    spec.setdefault("accessModes", ["ReadWriteOnce"])
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"capacity": {"storage": size}, **spec},
        "status": {"phase": phase},
    }


def claim(size: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("accessModes", ["ReadWriteOnce"])
    return {
        "metadata": {"name": "c", "namespace": "ns", "uid": "u1"},
        "spec": {"resources": {"requests": {"storage": size}}, **spec},
    }


def name_of(found: dict[str, Any] | None) -> str | None:
    return None if found is None else str(found["metadata"]["name"])


def test_smallest_fitting_volume_of_the_class_wins() -> None:
    volumes = [
        volume("big", "10Gi"),
        volume("small", "2Gi"),
        volume("tiny", "1Mi"),
        volume("classy", "2Gi", storageClassName="fast"),
    ]
    assert name_of(best_match(claim("1Gi"), volumes)) == "small"
    assert name_of(best_match(claim("1Gi", storageClassName="fast"), volumes)) == "classy"
    assert name_of(best_match(claim("20Gi"), volumes)) is None


def test_modes_selector_and_volume_mode_must_fit() -> None:
    volumes = [
        volume("rwo", "1Gi", labels={"tier": "gold"}),
        volume("rwx", "5Gi", accessModes=["ReadWriteOnce", "ReadWriteMany"]),
        volume("block", "1Gi", volumeMode="Block"),
    ]
    assert name_of(best_match(claim("1Gi", accessModes=["ReadWriteMany"]), volumes)) == "rwx"
    assert name_of(best_match(claim("1Gi", selector={"matchLabels": {"tier": "silver"}}), volumes)) is None
    assert name_of(best_match(claim("1Gi", selector={"matchLabels": {"tier": "gold"}}), volumes)) == "rwo"
    assert name_of(best_match(claim("1Gi", volumeMode="Block"), volumes)) == "block"


def test_prebound_volumes_are_reserved_and_preferred() -> None:
    mine = volume("mine", "5Gi", phase="Available", claimRef={"namespace": "ns", "name": "c"})
    theirs = volume("theirs", "1Gi", claimRef={"namespace": "ns", "name": "other"})
    bound = volume("bound", "1Gi", phase="Bound", claimRef={"namespace": "ns", "name": "c", "uid": "old"})
    assert name_of(best_match(claim("1Gi"), [theirs, bound, volume("free", "1Gi"), mine])) == "mine"
    assert name_of(best_match(claim("1Gi"), [theirs, bound])) is None
    # Waiting for the first consumer: only a pre-bound volume is taken here.
    assert name_of(best_match(claim("1Gi"), [volume("free", "1Gi")], delay_binding=True)) is None
    assert name_of(best_match(claim("1Gi"), [mine], delay_binding=True)) == "mine"


def test_a_named_volume_that_does_not_fit_says_why() -> None:
    assert mismatch(volume("v", "1Gi"), claim("2Gi")) == "requested PV is too small"
    assert (
        mismatch(volume("v", "1Gi"), claim("1Gi", storageClassName="x")) == "storageClassName does not match"
    )
    assert (
        mismatch(volume("v", "1Gi"), claim("1Gi", accessModes=["ReadWriteMany"])) == "incompatible accessMode"
    )
    assert mismatch(volume("v", "1Gi"), claim("1Gi")) is None
