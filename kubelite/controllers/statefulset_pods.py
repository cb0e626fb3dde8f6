"""A StatefulSet's pods and claims: stable names, identity labels, per-replica claims and their owners.

Pod `<set>-<ordinal>` carries the labels statefulset.kubernetes.io/pod-name and apps.kubernetes.io/pod-index,
hostname = its name and subdomain = spec.serviceName, and the name of the ControllerRevision it was made from
in controller-revision-hash. Each volumeClaimTemplate gives it the claim `<template>-<set>-<ordinal>`, mounted
through the template's volume of the same name.

Claims' ownerReferences follow persistentVolumeClaimRetentionPolicy as upstream sets them: whenDeleted=Delete
makes the StatefulSet an owner (the garbage collector removes the claim with the set); whenScaled=Delete makes
a scaled-down pod the owner (the claim goes with the pod). Neither is a controller reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubelite.client import paths
from kubelite.client.cache import Snapshot
from kubelite.client.frozen import thaw
from kubelite.client.rest import JSON
from kubelite.controllers.ownership import reference_to

STATEFULSETS = paths.resource("apps", "v1", "statefulsets")
PODS = paths.resource("", "v1", "pods")
CLAIMS = paths.resource("", "v1", "persistentvolumeclaims")

REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"

Pod = Mapping[str, Any]


def ordinal_of(set_name: str, pod: Pod) -> int | None:
    """The ordinal in a pod's name `<set>-<n>`, or None for a name of another shape."""
    match = re.fullmatch(re.escape(set_name) + r"-(0|[1-9][0-9]*)", str(pod["metadata"].get("name", "")))
    return int(match.group(1)) if match else None


def ordinal_range(sts: Snapshot) -> range:
    spec = sts["spec"]
    start = int((spec.get("ordinals") or {}).get("start") or 0)
    return range(start, start + int(spec.get("replicas", 1) or 0))


def revision_of(pod: Pod) -> str | None:
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL)


def is_terminating(pod: Pod) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def is_finished(pod: Pod) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded")


def is_running_and_ready(pod: Pod) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        (c.get("type"), c.get("status")) == ("Ready", "True") for c in status.get("conditions") or ()
    )


def claim_name(template: Mapping[str, Any], set_name: str, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{set_name}-{ordinal}"


def new_pod(sts: Snapshot, template: Mapping[str, Any], revision: str, ordinal: int) -> JSON:
    """Pod `ordinal` of `sts` from `template` (the pod template of the revision named `revision`)."""
    meta, spec = sts["metadata"], sts["spec"]
    name = f"{meta['name']}-{ordinal}"
    copied = thaw(template)
    copied.pop("$patch", None)
    pod_meta = copied.get("metadata") or {}
    pod_spec = copied.get("spec") or {}
    labels = pod_meta.get("labels") or {}
    labels.update({POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal), REVISION_LABEL: revision})
    pod_meta.pop("generateName", None)
    pod_meta.update(
        name=name,
        namespace=meta["namespace"],
        labels=labels,
        ownerReferences=[reference_to(sts, STATEFULSETS)],
    )
    pod_spec["hostname"] = name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    claims = spec.get("volumeClaimTemplates") or ()
    if claims:
        mounted = {c["metadata"]["name"] for c in claims}
        volumes = [v for v in pod_spec.get("volumes") or [] if v.get("name") not in mounted]
        for claim in claims:
            source = {"claimName": claim_name(claim, meta["name"], ordinal)}
            volumes.append({"name": claim["metadata"]["name"], "persistentVolumeClaim": source})
        pod_spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec}


def _pod_reference(pod: Pod) -> JSON:
    meta = pod["metadata"]
    return {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]}


def _set_reference(sts: Snapshot) -> JSON:
    ref = reference_to(sts, STATEFULSETS)
    return {k: v for k, v in ref.items() if k not in ("controller", "blockOwnerDeletion")}


def claim_owners(sts: Snapshot, pod: Pod | None, ordinal: int, current: list[JSON]) -> list[JSON]:
    """The ownerReferences a claim of pod `ordinal` should have under the retention policy."""
    policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    set_uid = sts["metadata"]["uid"]
    pod_uid = pod["metadata"].get("uid") if pod is not None else None
    scaled_down = ordinal not in ordinal_range(sts)
    owners = [r for r in current if r.get("uid") not in (set_uid, pod_uid)]
    if policy.get("whenDeleted") == "Delete" and not (scaled_down and policy.get("whenScaled") == "Delete"):
        owners.append(_set_reference(sts))
    if policy.get("whenScaled") == "Delete" and scaled_down and pod is not None:
        owners.append(_pod_reference(pod))
    return owners


def new_claim(sts: Snapshot, template: Mapping[str, Any], ordinal: int, pod: Pod | None) -> JSON:
    meta = sts["metadata"]
    claim = thaw(template)
    claim_meta = {
        k: v for k, v in (claim.get("metadata") or {}).items() if k in ("labels", "annotations", "finalizers")
    }
    labels = claim_meta.setdefault("labels", {})
    labels.update(((sts["spec"].get("selector") or {}).get("matchLabels")) or {})
    claim_meta.update(name=claim_name(template, meta["name"], ordinal), namespace=meta["namespace"])
    owners = claim_owners(sts, pod, ordinal, [])
    if owners:
        claim_meta["ownerReferences"] = owners
    claim.pop("status", None)
    return {**claim, "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": claim_meta}
