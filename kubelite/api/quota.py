"""ResourceQuota evaluation shared by quota admission and the quota controller, as upstream's evaluators.

For an object of a resource: what it uses (`usage`), which quota resource names concern it
(`matching_resources`), whether a quota's scopes select it (`matches_scopes`) and the rules it must follow
under a quota (`constraints`: cpu/memory quotas need every container to state them). Pods count `pods` and
compute resources only while not terminal; `count/<resource>[.<group>]` counts every object of a resource.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from kubelite.api import quantity
from kubelite.api.quantity import Quantity

Usage = dict[str, Quantity]

STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
_ONE = Quantity(Fraction(1))
_LEGACY_COUNTS = {"configmaps", "secrets", "resourcequotas", "replicationcontrollers"}
_POD_RESOURCES = {
    "pods", "count/pods", "cpu", "memory", "ephemeral-storage",
    *(f"{kind}.{name}" for kind in ("requests", "limits") for name in ("cpu", "memory", "ephemeral-storage")),
}  # fmt: skip
_SERVICE_RESOURCES = {"services", "count/services", "services.nodeports", "services.loadbalancers"}
_PVC_RESOURCES = ("persistentvolumeclaims", "count/persistentvolumeclaims", "requests.storage")
_CPU_MEMORY = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def object_count_name(group: str, plural: str) -> str:
    return f"count/{plural}.{group}" if group else f"count/{plural}"


def handles(group: str, plural: str, operation: str) -> bool:
    """Creates of everything; updates only where usage can change (a Service's type, a claim's size)."""
    return operation == "CREATE" or (
        operation == "UPDATE" and group == "" and plural in ("services", "persistentvolumeclaims")
    )


def add(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> Usage:
    """Sum per name; a zero takes the other's notation, as resource.Quantity.Add."""
    out = dict(a)
    for name, value in b.items():
        mine = out.get(name)
        if mine is None:
            out[name] = value
        else:
            notation = value.notation if mine.value == 0 else mine.notation
            out[name] = Quantity(mine.value + value.value, notation)
    return out


def parse_list(values: Any) -> Usage:
    """A ResourceList's quantities (unparseable entries are left out: validation rejected them)."""
    out: Usage = {}
    for name, text in (values or {}).items() if isinstance(values, dict) else ():
        try:
            out[str(name)] = quantity.parse(text)
        except ValueError:
            continue
    return out


def render(usage: Mapping[str, Quantity]) -> dict[str, str]:
    return {name: quantity.canonical(value) for name, value in sorted(usage.items())}


def _is_extended_request(name: str) -> bool:
    rest = name.removeprefix("requests.")
    return rest != name and "/" in rest and not rest.startswith("kubernetes.io/")


def matching_resources(group: str, plural: str, names: Iterable[str]) -> list[str]:
    """The quota resource names that an object of this resource is counted under."""
    own = object_count_name(group, plural)
    out = []
    for name in names:
        if name == own:
            out.append(name)
        elif group != "":
            continue
        elif plural == "pods" and (
            name in _POD_RESOURCES
            or name.startswith(("hugepages-", "requests.hugepages-"))
            or _is_extended_request(name)
        ):
            out.append(name)
        elif plural == "services" and name in _SERVICE_RESOURCES:
            out.append(name)
        elif plural == "persistentvolumeclaims" and (
            name in _PVC_RESOURCES or any(name.endswith(STORAGE_CLASS_SUFFIX + r) for r in _PVC_RESOURCES)
        ):
            out.append(name)
        elif plural in _LEGACY_COUNTS and name == plural:
            out.append(name)
    return out


def scope_selectors(quota: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = quota.get("spec") or {}
    found = [{"scopeName": s, "operator": "Exists"} for s in spec.get("scopes") or ()]
    return found + list((spec.get("scopeSelector") or {}).get("matchExpressions") or ())


def _best_effort(pod: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    for container in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            amounts = parse_list(resources.get(kind))
            if any(amounts[n].value != 0 for n in ("cpu", "memory") if n in amounts):
                return False
    return True


def _pod_matches(selector: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    scope, operator = selector.get("scopeName"), selector.get("operator")
    if scope == "Terminating":
        return spec.get("activeDeadlineSeconds") is not None and spec["activeDeadlineSeconds"] >= 0
    if scope == "NotTerminating":
        return spec.get("activeDeadlineSeconds") is None
    if scope == "BestEffort":
        return _best_effort(pod)
    if scope == "NotBestEffort":
        return not _best_effort(pod)
    if scope == "PriorityClass":
        # Upstream matches the label set {PriorityClass: name}, empty when the pod names no class.
        name, values = spec.get("priorityClassName") or "", selector.get("values") or ()
        present = {"In": bool(name) and name in values, "NotIn": not name or name not in values}
        return {**present, "Exists": bool(name), "DoesNotExist": not name}.get(str(operator), False)
    if scope == "CrossNamespacePodAffinity":
        return _cross_namespace_affinity(spec.get("affinity") or {})
    return False


def _cross_namespace_affinity(affinity: Mapping[str, Any]) -> bool:
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = affinity.get(kind) or {}
        required = terms.get("requiredDuringSchedulingIgnoredDuringExecution") or ()
        preferred = [
            t.get("podAffinityTerm") or {}
            for t in terms.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
        ]
        if any(
            t.get("namespaces") or t.get("namespaceSelector") is not None for t in [*required, *preferred]
        ):
            return True
    return False


def matches_scopes(group: str, plural: str, quota: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    """Every scope of the quota selects the object; only pods are scoped, other kinds match no scope."""
    selectors = scope_selectors(quota)
    if not selectors:
        return True
    return (group, plural) == ("", "pods") and all(_pod_matches(s, obj) for s in selectors)


def _maximum(a: Usage, b: Usage) -> Usage:
    out = dict(a)
    for name, value in b.items():
        if name not in out or value.value > out[name].value:
            out[name] = value
    return out


def _pod_amounts(spec: Mapping[str, Any], kind: str) -> Usage:
    """Containers summed, sidecars included; at least the largest init container's moment; plus overhead."""
    total: Usage = {}
    for container in spec.get("containers") or ():
        total = add(total, parse_list((container.get("resources") or {}).get(kind)))
    sidecars: Usage = {}
    init_peak: Usage = {}
    for container in spec.get("initContainers") or ():
        own = parse_list((container.get("resources") or {}).get(kind))
        if container.get("restartPolicy") == "Always":
            sidecars = add(sidecars, own)
            init_peak = _maximum(init_peak, sidecars)
        else:
            init_peak = _maximum(init_peak, add(sidecars, own))
    amounts = _maximum(add(total, sidecars), init_peak)
    overhead = parse_list(spec.get("overhead"))
    if kind == "limits":  # overhead raises only the limits a pod states
        overhead = {n: v for n, v in overhead.items() if n in amounts}
    return add(amounts, overhead)


def _compute_usage(requests: Usage, limits: Usage) -> Usage:
    out: Usage = {"pods": _ONE}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            out[name] = out[f"requests.{name}"] = requests[name]
        if name in limits:
            out[f"limits.{name}"] = limits[name]
    for name, value in requests.items():
        if name.startswith("hugepages-"):
            out[name] = out[f"requests.{name}"] = value
        elif "/" in name and not name.startswith("kubernetes.io/"):
            out[f"requests.{name}"] = value
    return out


def pod_counts(pod: Mapping[str, Any], now: datetime.datetime) -> bool:
    """Pods stop using quota once terminal or past their deletion grace period."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    meta = pod.get("metadata") or {}
    deleted, grace = meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")
    if deleted and grace is not None:
        when = datetime.datetime.fromisoformat(str(deleted).replace("Z", "+00:00"))
        return now <= when + datetime.timedelta(seconds=int(grace))
    return True


def usage(group: str, plural: str, obj: Mapping[str, Any], now: datetime.datetime) -> Usage:
    out: Usage = {object_count_name(group, plural): _ONE}
    if group != "":
        return out
    spec = obj.get("spec") or {}
    if plural == "pods":
        if pod_counts(obj, now):
            out |= _compute_usage(_pod_amounts(spec, "requests"), _pod_amounts(spec, "limits"))
    elif plural == "services":
        out["services"] = _ONE
        ports = Quantity(Fraction(len(spec.get("ports") or ())))
        if spec.get("type") == "NodePort":
            out["services.nodeports"] = ports
        elif spec.get("type") == "LoadBalancer":
            if spec.get("allocateLoadBalancerNodePorts") is False:
                ports = Quantity(Fraction(sum(1 for p in spec.get("ports") or () if p.get("nodePort"))))
            out["services.nodeports"] = ports
            out["services.loadbalancers"] = _ONE
    elif plural == "persistentvolumeclaims":
        out["persistentvolumeclaims"] = _ONE
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        storage_class = annotations.get(_STORAGE_CLASS_ANNOTATION) or spec.get("storageClassName") or ""
        requested = parse_list((spec.get("resources") or {}).get("requests")).get("storage")
        allocated = parse_list((obj.get("status") or {}).get("allocatedResources")).get("storage")
        if allocated is not None and (requested is None or allocated.value > requested.value):
            requested = allocated
        if storage_class:
            out[f"{storage_class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"] = _ONE
        if requested is not None:
            out["requests.storage"] = requested
            if storage_class:
                out[f"{storage_class}{STORAGE_CLASS_SUFFIX}requests.storage"] = requested
    elif plural in _LEGACY_COUNTS:
        out[plural] = _ONE
    return out


def constraints(group: str, plural: str, required: Iterable[str], obj: Mapping[str, Any]) -> str | None:
    """Upstream's rule (kept for compatibility): under a cpu or memory quota every container must state
    them. The message names what is missing, e.g. `must specify limits.cpu for: app; memory for: app,b`."""
    wanted = set(required) & _CPU_MEMORY
    if (group, plural) != ("", "pods") or not wanted:
        return None
    spec = obj.get("spec") or {}
    missing: dict[str, set[str]] = {}
    for container in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
        resources = container.get("resources") or {}
        stated = _compute_usage(parse_list(resources.get("requests")), parse_list(resources.get("limits")))
        for name in wanted - set(stated):
            missing.setdefault(name, set()).add(str(container.get("name", "")))
    if not missing:
        return None
    return "must specify " + "; ".join(f"{n} for: {','.join(sorted(missing[n]))}" for n in sorted(missing))
