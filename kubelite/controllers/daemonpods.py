"""Which nodes a DaemonSet's pods belong on, and how its pods are built.

A node is eligible when it matches the template's nodeSelector and required node affinity and every
NoSchedule/NoExecute taint is tolerated, counting the tolerations the DaemonSet controller adds to each of its
pods (as upstream: daemons keep running on not-ready, unreachable, pressured and cordoned nodes). A pod
already there may stay despite an untolerated NoSchedule taint; only an untolerated NoExecute one evicts it.

The scheduler has its own copy of the matching rules (the layering keeps controllers from importing it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api.nodeaffinity import NODE_NAME_FIELD, term_matches, tolerated
from kubelite.client import paths
from kubelite.client.cache import Snapshot
from kubelite.client.frozen import thaw
from kubelite.controllers.ownership import reference_to

REVISION_HASH_LABEL = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"

DAEMONSETS = paths.resource("apps", "v1", "daemonsets")


def _toleration(key: str, effect: str) -> dict[str, str]:
    return {"key": f"node.kubernetes.io/{key}", "operator": "Exists", "effect": effect}


AUTO_TOLERATIONS = (
    _toleration("not-ready", "NoExecute"),
    _toleration("unreachable", "NoExecute"),
    _toleration("disk-pressure", "NoSchedule"),
    _toleration("memory-pressure", "NoSchedule"),
    _toleration("pid-pressure", "NoSchedule"),
    _toleration("unschedulable", "NoSchedule"),
)
HOST_NETWORK_TOLERATION = _toleration("network-unavailable", "NoSchedule")


@dataclass(frozen=True, slots=True)
class Placement:
    should_run: bool  # a daemon pod belongs here (create one if missing)
    may_stay: bool  # a daemon pod already here may keep running


def pod_tolerations(template_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The template's tolerations plus the automatic ones it does not already have."""
    tolerations = [thaw(t) for t in template_spec.get("tolerations") or ()]
    extra = [*AUTO_TOLERATIONS, *((HOST_NETWORK_TOLERATION,) if template_spec.get("hostNetwork") else ())]
    for toleration in extra:
        if not any(
            t.get("key") == toleration["key"] and t.get("effect") == toleration["effect"] for t in tolerations
        ):
            tolerations.append(dict(toleration))
    return tolerations


def placement(template_spec: Mapping[str, Any], node: Snapshot) -> Placement:
    meta = node["metadata"]
    labels, name = meta.get("labels") or {}, str(meta["name"])
    if any(labels.get(k) != v for k, v in (template_spec.get("nodeSelector") or {}).items()):
        return Placement(False, False)
    required = ((template_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required is not None and not any(
        term_matches(t, labels, name) for t in required.get("nodeSelectorTerms") or ()
    ):
        return Placement(False, False)
    tolerations = pod_tolerations(template_spec)
    should_run = may_stay = True
    for taint in (node.get("spec") or {}).get("taints") or ():
        if tolerated(tolerations, taint):
            continue
        if taint.get("effect") == "NoExecute":
            return Placement(False, False)
        if taint.get("effect") == "NoSchedule":
            should_run = False
    return Placement(should_run, may_stay)


def target_node(pod: Snapshot) -> str | None:
    """The node a daemon pod is for: where it is bound, else the node its affinity pins it to."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or ():
        for field in term.get("matchFields") or ():
            values = list(field.get("values") or ())
            if field.get("key") == NODE_NAME_FIELD and field.get("operator") == "In" and len(values) == 1:
                return str(values[0])
    return None


def new_pod(daemonset: Snapshot, node_name: str, revision_hash: str) -> dict[str, Any]:
    """A daemon pod pinned to `node_name` by required node affinity, for the default scheduler to bind."""
    meta = daemonset["metadata"]
    template = thaw(daemonset["spec"]["template"])
    pod_meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    labels = pod_meta.setdefault("labels", {})
    labels[REVISION_HASH_LABEL] = revision_hash
    labels[TEMPLATE_GENERATION_LABEL] = str(meta.get("generation", 1))
    pod_meta.pop("name", None)
    pod_meta.update(
        generateName=f"{meta['name']}-",
        namespace=meta["namespace"],
        ownerReferences=[reference_to(daemonset, DAEMONSETS)],
    )
    pin = {"matchFields": [{"key": NODE_NAME_FIELD, "operator": "In", "values": [node_name]}]}
    node_affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [pin]}
    spec["tolerations"] = pod_tolerations(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}
