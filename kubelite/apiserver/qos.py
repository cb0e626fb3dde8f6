"""A pod's quality-of-service class (status.qosClass), which upstream computes when the pod is created.

Only cpu and memory count. No request or limit anywhere: BestEffort. Every container limiting both, with
requests equal to the limits (defaulting copies limits into missing requests): Guaranteed. Otherwise
Burstable.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from kubelite.api import quantity

_COMPUTE = ("cpu", "memory")


def _amounts(values: Any) -> dict[str, Fraction]:
    """The non-zero cpu and memory quantities of a requests or limits map."""
    found: dict[str, Fraction] = {}
    if not isinstance(values, dict):
        return found
    for name in _COMPUTE:
        if name not in values:
            continue
        try:
            amount = quantity.parse(values[name]).value
        except ValueError:
            continue
        if amount != 0:
            found[name] = amount
    return found


def qos_class(pod: dict[str, Any]) -> str:
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for kind in ("initContainers", "containers"):
        for container in (spec or {}).get(kind) or []:
            resources = (container or {}).get("resources") or {}
            for name, amount in _amounts(resources.get("requests")).items():
                requests[name] = requests.get(name, Fraction(0)) + amount
            own_limits = _amounts(resources.get("limits"))
            for name, amount in own_limits.items():
                limits[name] = limits.get(name, Fraction(0)) + amount
            if set(own_limits) != set(_COMPUTE):
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests == limits:
        return "Guaranteed"
    return "Burstable"
