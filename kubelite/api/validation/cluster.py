"""Nodes, ResourceQuotas, LimitRanges, Leases, Events, PodDisruptionBudgets and Scales.

Quotas and limit ranges hold quantities that must be non-negative (and whole for counted resources); a
limit range's bounds must be ordered min <= defaultRequest <= default <= max. Node updates may not change
an assigned pod CIDR or provider ID. Leases and Events are checked for their metadata and a few counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api.quantity import Quantity
from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.resources import (
    container_resource_name,
    quantities,
    quantity_value,
    quota_resource_name,
    resource_name,
)
from kubelite.api.validation.scheduling import taints

LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")
QUOTA_SCOPES = (
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
)


def _node_resources(node: Mapping[str, Any]) -> list[Cause]:
    status = node.get("status") or {}
    found: list[Cause] = []
    for field in ("capacity", "allocatable"):
        for name, quantity in quantities(status.get(field)).items():
            found += quantity_value(name, quantity, f"status.{field}.{name}")
    return found


def validate_node(node: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(node.get("metadata") or {}, namespaced=False, name_rule=names.name_is_dns_subdomain)
    spec = node.get("spec") or {}
    found += taints(spec.get("taints") or [], "metadata.taints")
    found += _node_resources(node)
    cidrs = spec.get("podCIDRs") or []
    for i, cidr in enumerate(cidrs):
        found += [e.invalid(f"spec.podCIDRs[{i}]", cidr, msg) for msg in names.is_valid_cidr(cidr)]
    if len(cidrs) > 2 or (len(cidrs) == 2 and ("." in cidrs[0]) == ("." in cidrs[1])):
        found.append(
            e.invalid(
                "spec.podCIDRs", e.go_strings(cidrs), "may specify no more than one CIDR for each IP family"
            )
        )
    return found


def validate_node_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    found += _node_resources(new)
    seen: list[Any] = []
    for i, address in enumerate((new.get("status") or {}).get("addresses") or []):
        if address in seen:
            found.append(e.duplicate(f"status.addresses[{i}]", address))
        seen.append(address)
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    old_cidrs = old_spec.get("podCIDRs") or []
    if old_cidrs and old_cidrs != (spec.get("podCIDRs") or []):
        found.append(
            e.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
        )
    if old_spec.get("providerID") and old_spec.get("providerID") != spec.get("providerID"):
        found.append(
            e.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')
        )
    found += taints(spec.get("taints") or [], "metadata.taints")
    if spec.get("externalID") != old_spec.get("externalID"):
        found.append(e.forbidden("spec.externalID", "may not be updated"))
    return found


def _quota_spec(spec: Mapping[str, Any], path: str) -> list[Cause]:
    found: list[Cause] = []
    for name, quantity in quantities(spec.get("hard")).items():
        where = e.key(e.child(path, "hard"), name)
        found += quota_resource_name(name, where) + quantity_value(name, quantity, where)
    scopes = spec.get("scopes") or []
    for scope in scopes:
        if scope not in QUOTA_SCOPES:
            found.append(e.invalid(e.child(path, "scopes"), e.go_strings(scopes), "unsupported scope"))
    for pair in (("BestEffort", "NotBestEffort"), ("Terminating", "NotTerminating")):
        if set(pair) <= set(scopes):
            found.append(e.invalid(e.child(path, "scopes"), e.go_strings(scopes), "conflicting scopes"))
    where = e.child(path, "scopeSelector", "matchExpressions")
    for requirement in (spec.get("scopeSelector") or {}).get("matchExpressions") or []:
        scope, operator, values = (
            requirement.get("scopeName") or "",
            requirement.get("operator") or "",
            requirement.get("values") or [],
        )
        if scope not in QUOTA_SCOPES:
            found.append(e.invalid(e.child(where, "scopeName"), scope, "unsupported scope"))
        if operator in ("In", "NotIn") and not values:
            detail = "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"
            found.append(e.required(e.child(where, "values"), detail))
        elif operator in ("Exists", "DoesNotExist") and values:
            detail = "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"
            found.append(e.invalid(e.child(where, "values"), e.go_strings(values), detail))
        elif operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            found.append(e.invalid(e.child(where, "operator"), operator, "not a valid selector operator"))
    return found


def validate_resource_quota(quota: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(quota.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain)
    found += _quota_spec(quota.get("spec") or {}, "spec")
    status = quota.get("status") or {}
    for field in ("hard", "used"):
        for name, quantity in quantities(status.get(field)).items():
            where = e.key(f"status.{field}", name)
            found += quota_resource_name(name, where) + quantity_value(name, quantity, where)
    return found


def validate_resource_quota_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    found += _quota_spec(spec, "spec")
    if set(spec.get("scopes") or []) != set(old_spec.get("scopes") or []):
        found.append(e.invalid("spec.scopes", e.go_strings(spec.get("scopes")), e.IMMUTABLE))
    return found


def _limit_item(item: Mapping[str, Any], path: str, seen_types: set[str]) -> list[Cause]:
    found: list[Cause] = []
    kind = item.get("type") or ""
    problems = names.is_qualified_name(kind)
    if problems:
        found += [e.invalid(e.child(path, "type"), kind, msg) for msg in problems]
    elif "/" not in kind and kind not in LIMIT_TYPES:
        found.append(
            e.invalid(e.child(path, "type"), kind, "must be a standard limit type or fully qualified")
        )
    if kind in seen_types:
        found.append(e.duplicate(e.child(path, "type"), kind))
    seen_types.add(kind)
    name_check = container_resource_name if kind in ("Pod", "Container") else resource_name
    bounds: dict[str, dict[str, Quantity]] = {}
    fields = ["max", "min"]
    if kind == "Pod":
        for field in ("default", "defaultRequest"):
            if item.get(field):
                found.append(e.forbidden(e.child(path, field), "may not be specified when `type` is 'Pod'"))
    else:
        fields += ["default", "defaultRequest"]
    fields.append("maxLimitRequestRatio")
    for field in fields:
        bounds[field] = quantities(item.get(field))
        for name in bounds[field]:
            found += name_check(name, e.key(e.child(path, field), name))
    if kind == "PersistentVolumeClaim" and "storage" not in bounds["min"] and "storage" not in bounds["max"]:
        detail = "either minimum or maximum storage value is required, but neither was provided"
        found.append(e.required(e.child(path, "limits"), detail))
    resources = sorted({name for values in bounds.values() for name in values})
    for name in resources:
        found += _ordered_bounds(name, bounds, path)
    return found


def _ordered_bounds(name: str, bounds: Mapping[str, Mapping[str, Quantity]], path: str) -> list[Cause]:
    """min <= defaultRequest <= default <= max, and a limit/request ratio of at least 1."""
    low, high = bounds["min"].get(name), bounds["max"].get(name)
    default, request = bounds.get("default", {}).get(name), bounds.get("defaultRequest", {}).get(name)
    ratio = bounds["maxLimitRequestRatio"].get(name)
    found: list[Cause] = []

    def at(field: str) -> str:
        return e.key(e.child(path, field), name)

    if low and high and low.value > high.value:
        found.append(e.invalid(at("min"), str(low), f"min value {low} is greater than max value {high}"))
    if request and low and low.value > request.value:
        found.append(
            e.invalid(
                at("defaultRequest"),
                str(request),
                f"min value {low} is greater than default request value {request}",
            )
        )
    if request and high and request.value > high.value:
        found.append(
            e.invalid(
                at("defaultRequest"),
                str(request),
                f"default request value {request} is greater than max value {high}",
            )
        )
    if request and default and request.value > default.value:
        detail = f"default request value {request} is greater than default limit value {default}"
        found.append(e.invalid(at("defaultRequest"), str(request), detail))
    if default and low and low.value > default.value:
        found.append(
            e.invalid(at("default"), str(low), f"min value {low} is greater than default value {default}")
        )
    if default and high and default.value > high.value:
        found.append(
            e.invalid(at("default"), str(high), f"default value {default} is greater than max value {high}")
        )
    if ratio and ratio.value < 1:
        found.append(e.invalid(at("maxLimitRequestRatio"), str(ratio), f"ratio {ratio} is less than 1"))
    if ratio and low and high and low.value > 0 and ratio.value > high.value / low.value:
        detail = f"ratio {ratio} is greater than max/min = {float(high.value / low.value):f}"
        found.append(e.invalid(at("maxLimitRequestRatio"), str(ratio), detail))
    return found


def validate_limit_range(limit_range: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        limit_range.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain
    )
    seen: set[str] = set()
    for i, item in enumerate((limit_range.get("spec") or {}).get("limits") or []):
        found += _limit_item(item, f"spec.limits[{i}]", seen)
    return found


def validate_limit_range_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {}) + validate_limit_range(
        new
    )


def validate_lease(lease: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(lease.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain)
    spec = lease.get("spec") or {}
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        found.append(e.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if transitions is not None and transitions < 0:
        found.append(e.invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    return found


def validate_lease_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    return found + [c for c in validate_lease(new) if c.field.startswith("spec.")]


def validate_event(event: Mapping[str, Any]) -> list[Cause]:
    return m.object_meta(event.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain)


def validate_pod_disruption_budget(budget: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        budget.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain
    )
    spec = budget.get("spec") or {}
    found += m.label_selector(spec.get("selector"), "spec.selector")
    for field in ("minAvailable", "maxUnavailable"):
        value = spec.get(field)
        if isinstance(value, str):
            found += [
                e.invalid(f"spec.{field}", e.go_int_or_string(value), msg)
                for msg in names.is_valid_percent(value)
            ]
            if not names.is_valid_percent(value) and int(value[:-1]) > 100:
                found.append(
                    e.invalid(f"spec.{field}", e.go_int_or_string(value), "must not be greater than 100%")
                )
        elif value is not None:
            found += e.non_negative(f"spec.{field}", value)
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        found.append(e.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
    return found


def validate_scale(scale: Mapping[str, Any]) -> list[Cause]:
    return e.non_negative("spec.replicas", (scale.get("spec") or {}).get("replicas"))
