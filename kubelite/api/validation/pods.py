"""Pods, PodTemplates and Bindings.

A pod's spec is fixed once created: an update may change container images, lower activeDeadlineSeconds,
add tolerations, remove scheduling gates (and, while gated, add node selectors); everything else is refused
with upstream's `spec: Forbidden: pod updates may not change fields other than ...`. Status writes and
bindings (how the scheduler sets spec.nodeName) have their own rules.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.podspec import MAX_INT32, pod_annotations, pod_spec, template_spec
from kubelite.api.validation.scheduling import tolerations

UPDATABLE_FIELDS = (
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _metadata_and_spec(pod: Mapping[str, Any]) -> list[Cause]:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    found = m.object_meta(meta, namespaced=True, name_rule=names.name_is_dns_subdomain)
    found += pod_annotations(meta.get("annotations"), spec, "metadata.annotations")
    found += pod_spec(spec, "spec", for_pod=True, pod_name=meta.get("name") or "")
    if not spec.get("serviceAccountName"):
        for i, volume in enumerate(spec.get("volumes") or []):
            for j, projection in enumerate((volume.get("projected") or {}).get("sources") or []):
                if projection.get("serviceAccountToken") is not None:
                    where = f"spec.volumes[{i}].projected.sources[{j}].serviceAccountToken"
                    found.append(
                        e.forbidden(where, "must not be specified when serviceAccountName is not set")
                    )
    for kind in ("containers", "initContainers"):
        for i, container in enumerate(spec.get(kind) or []):
            image = container.get("image") or ""
            if image != image.strip():
                found.append(
                    e.invalid(
                        f"spec.{kind}[{i}].image", image, "must not have leading or trailing whitespace"
                    )
                )
    return found


def validate_pod(pod: Mapping[str, Any]) -> list[Cause]:
    """ValidatePodCreate."""
    spec = pod.get("spec") or {}
    found = _metadata_and_spec(pod)
    if spec.get("ephemeralContainers"):
        found.append(e.forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if spec.get("nodeName") and spec.get("schedulingGates"):
        found.append(
            e.forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared")
        )
    return found


def _container_updates(
    new: list[dict[str, Any]], old: list[dict[str, Any]], path: str
) -> tuple[list[Cause], bool]:
    if len(new) != len(old):
        return [e.forbidden(path, "pod updates may not add or remove containers")], True
    found: list[Cause] = []
    for i, container in enumerate(new):
        image = container.get("image") or ""
        if not image:
            found.append(e.required(f"{path}[{i}].image"))
        if image != image.strip():
            found.append(
                e.invalid(f"{path}[{i}].image", image, "must not have leading or trailing whitespace")
            )
    return found, False


def _only_added_tolerations(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[Cause]:
    """Existing tolerations stay (their tolerationSeconds may change); new ones may be added."""
    for existing in old:
        rest = {k: v for k, v in existing.items() if k != "tolerationSeconds"}
        if not any({k: v for k, v in t.items() if k != "tolerationSeconds"} == rest for t in new):
            return [
                e.forbidden(
                    "spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"
                )
            ]
    return tolerations(new, "spec.tolerations")


def _diff(old: Any, new: Any, path: str) -> Iterator[str]:
    """Where two specs differ, one `- path: old` / `+ path: new` pair per changed leaf."""
    if isinstance(old, dict) and isinstance(new, dict):
        for field in sorted(set(old) | set(new)):
            yield from _diff(old.get(field), new.get(field), e.child(path, field))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (left, right) in enumerate(zip(old, new, strict=True)):
            yield from _diff(left, right, e.index(path, i))
    elif old != new:
        yield f"- {path}: {e.render(old)}\n+ {path}: {e.render(new)}"


def validate_pod_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    """ValidatePodUpdate."""
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    found += _metadata_and_spec(new)
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    for kind in ("containers", "initContainers"):
        problems, stop = _container_updates(spec.get(kind) or [], old_spec.get(kind) or [], f"spec.{kind}")
        found += problems
        if stop:
            return found
    deadline, old_deadline = spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
    if deadline is not None:
        if not 0 <= deadline <= MAX_INT32:
            return [
                *found,
                e.invalid("spec.activeDeadlineSeconds", deadline, names.inclusive_range_error(0, MAX_INT32)),
            ]
        if old_deadline is not None and old_deadline < deadline:
            return [
                *found,
                e.invalid(
                    "spec.activeDeadlineSeconds", deadline, "must be less than or equal to previous value"
                ),
            ]
    elif old_deadline is not None:
        found.append(
            e.invalid(
                "spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"
            )
        )
    found += _only_added_tolerations(spec.get("tolerations") or [], old_spec.get("tolerations") or [])
    old_gates = {gate.get("name") for gate in old_spec.get("schedulingGates") or []}
    for i, gate in enumerate(spec.get("schedulingGates") or []):
        if gate.get("name") not in old_gates:
            detail = f"only deletion is allowed, but found new scheduling gate '{gate.get('name')}'"
            found.append(e.forbidden(f"spec.schedulingGates[{i}].name", detail))
    if spec == old_spec:
        return found
    munged = copy.deepcopy(dict(spec))
    for kind in ("containers", "initContainers"):
        for container, previous in zip(munged.get(kind) or [], old_spec.get(kind) or [], strict=True):
            container["image"] = previous.get("image")
    for field in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        _copy_field(munged, old_spec, field)
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if old_spec.get("schedulingGates"):
        found += _gated_node_selector(munged, old_spec)
    if munged != old_spec:
        changes = "\n".join(_diff(old_spec, munged, "spec"))
        found.append(
            e.forbidden("spec", f"pod updates may not change fields other than {UPDATABLE_FIELDS}\n{changes}")
        )
    return found


def _copy_field(target: dict[str, Any], source: Mapping[str, Any], field: str) -> None:
    if field in source:
        target[field] = copy.deepcopy(source[field])
    else:
        target.pop(field, None)


def _gated_node_selector(munged: dict[str, Any], old_spec: Mapping[str, Any]) -> list[Cause]:
    """While a pod is gated, node selectors may be added (never changed or removed)."""
    selector, old_selector = munged.get("nodeSelector") or {}, old_spec.get("nodeSelector") or {}
    if selector == old_selector:
        return []
    _copy_field(munged, old_spec, "nodeSelector")
    if any(selector.get(k) != v for k, v in old_selector.items()):
        detail = "only additions to spec.nodeSelector are allowed (no mutations or deletions)"
        return [e.invalid("spec.nodeSelector", e.go_map(selector), detail)]
    return []


def validate_pod_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    """ValidatePodStatusUpdate: the spec is the stored one; the node and the QoS class never move."""
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    if (new.get("spec") or {}).get("nodeName") != (old.get("spec") or {}).get("nodeName"):
        found.append(e.forbidden("status.nodeName", "may not be changed directly"))
    status, old_status = new.get("status") or {}, old.get("status") or {}
    nominated = status.get("nominatedNodeName") or ""
    if nominated and nominated != old_status.get("nominatedNodeName"):
        found += [
            e.invalid("status.nominatedNodeName", nominated, msg)
            for msg in names.is_dns1123_subdomain(nominated)
        ]
    found += e.immutable("status.qosClass", status.get("qosClass") or "", old_status.get("qosClass") or "")
    for i, condition in enumerate(status.get("conditions") or []):
        if condition.get("type") not in ("PodScheduled", "Ready", "Initialized"):
            found += m.qualified_name(condition.get("type") or "", f"metadata.conditions[{i}].Type")
    for i, address in enumerate(status.get("podIPs") or []):
        found += [
            e.invalid(f"status.podIPs[{i}]", address.get("ip") or "", msg)
            for msg in names.is_valid_ip(address.get("ip") or "")
        ]
    return found


def validate_pod_template(template: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        template.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain
    )
    return found + template_spec(template.get("template"), "template")


def validate_pod_template_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    return found + template_spec(new.get("template"), "template")


def validate_binding(binding: Mapping[str, Any]) -> list[Cause]:
    """ValidatePodBinding: a binding names the node it assigns the pod to."""
    target = binding.get("target") or {}
    found: list[Cause] = []
    if target.get("kind") and target["kind"] != "Node":
        found.append(e.not_supported("target.kind", target["kind"], ("Node", "<empty>")))
    if not target.get("name"):
        found.append(e.required("target.name"))
    return found
