"""Resource names and quantities: container requests/limits, quota and limit-range entries.

Names are either standard (`cpu`, `memory`, `pods`, `hugepages-2Mi`...) or fully qualified extended
resources (`example.com/gpu`); quantities are never negative, counts are whole, and a container's request
never exceeds its limit (extended resources and hugepages cannot be overcommitted at all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubelite.api.quantity import Quantity, parse
from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import names

_STANDARD = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_CONTAINER = frozenset({"cpu", "memory", "ephemeral-storage"})
_QUOTA = _STANDARD - {"storage"}
_INTEGER = frozenset(
    {
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    }
)

ResourceNameCheck = Callable[[str, str], list[Cause]]


def is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_extended(name: str) -> bool:
    return (
        not is_native(name)
        and not name.startswith("requests.")
        and not names.is_qualified_name("requests." + name)
    )


def overcommit_allowed(name: str) -> bool:
    return is_native(name) and not is_hugepages(name)


def resource_name(name: str, path: str) -> list[Cause]:
    """validateResourceName: a qualified name, standard unless it has a domain prefix."""
    found = [e.invalid(path, name, msg) for msg in names.is_qualified_name(name)]
    if found:
        return found
    if (
        "/" not in name
        and name not in _STANDARD
        and not is_hugepages(name)
        and not name.startswith("requests.hugepages-")
    ):
        return [e.invalid(path, name, "must be a standard resource type or fully qualified")]
    return []


def container_resource_name(name: str, path: str) -> list[Cause]:
    found = resource_name(name, path)
    if "/" not in name:
        if name not in _CONTAINER and not is_hugepages(name):
            found.append(e.invalid(path, name, "must be a standard resource for containers"))
    elif not is_native(name) and not is_extended(name):
        found.append(e.invalid(path, name, "doesn't follow extended resource name standard"))
    return found


def quota_resource_name(name: str, path: str) -> list[Cause]:
    found = resource_name(name, path)
    if "/" not in name and name not in _QUOTA and not name.startswith("requests.hugepages-"):
        found.append(e.invalid(path, name, "must be a standard resource for quota"))
    return found


def quantity_value(name: str, quantity: Quantity, path: str) -> list[Cause]:
    """ValidateResourceQuantityValue: never negative, whole for countable resources."""
    found = [e.invalid(path, str(quantity), e.NEGATIVE)] if quantity.value < 0 else []
    if (name in _INTEGER or is_extended(name)) and not quantity.is_integer:
        found.append(e.invalid(path, str(quantity), "must be an integer"))
    return found


def quantities(values: Mapping[str, Any] | None) -> dict[str, Quantity]:
    """A resource list parsed; structural validation already refused malformed quantities."""
    return {name: parse(value) for name, value in (values or {}).items()}


def requirements(
    spec: Mapping[str, Any] | None, path: str, *, name_check: ResourceNameCheck = container_resource_name
) -> list[Cause]:
    """validateResourceRequirements of a container: names, values, and requests against limits."""
    spec = spec or {}
    limits = quantities(spec.get("limits"))
    requests = quantities(spec.get("requests"))
    limits_path, requests_path = e.child(path, "limits"), e.child(path, "requests")
    found: list[Cause] = []
    for name, quantity in limits.items():
        where = e.key(limits_path, name)
        found += name_check(name, where) + quantity_value(name, quantity, where)
    for name, quantity in requests.items():
        where = e.key(requests_path, name)
        found += name_check(name, where) + quantity_value(name, quantity, where)
        limit = limits.get(name)
        if limit is not None:
            if quantity.value != limit.value and not overcommit_allowed(name):
                detail = f"must be equal to {name} limit of {limit}"
                found.append(e.invalid(requests_path, str(quantity), detail))
            elif quantity.value > limit.value:
                detail = f"must be less than or equal to {name} limit of {limit}"
                found.append(e.invalid(requests_path, str(quantity), detail))
        elif not overcommit_allowed(name):
            found.append(e.required(limits_path, "Limit must be set for non overcommitable resources"))
    uses_hugepages = any(is_hugepages(name) for name in (*limits, *requests))
    if uses_hugepages and not any(name in ("cpu", "memory") for name in (*limits, *requests)):
        found.append(e.forbidden(path, "HugePages require cpu or memory"))
    return found
