"""A pod's resource requests and a node's allocatable, as plain integers the filters can compare fast.

cpu is counted in millicores, everything else in whole units (bytes, pods). A pod requests the larger of
the sum of its containers' requests and each init container's request (init containers run one at a time,
before the others), plus its overhead (spec.overhead, from a RuntimeClass).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from kubelite.api.quantity import parse

CPU, MEMORY, PODS, EPHEMERAL = "cpu", "memory", "pods", "ephemeral-storage"

# What scoring assumes for a container that requests nothing (upstream's non-zero defaults), so that empty
# pods still spread instead of piling onto one node.
DEFAULT_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

Amounts = dict[str, int]


@functools.lru_cache(maxsize=4096)
def amount(name: str, text: str) -> int:
    """One quantity as an integer: millicores for cpu, whole units (rounded up) otherwise."""
    value = parse(text).value
    return math.ceil(value * 1000) if name == CPU else math.ceil(value)


def amounts(values: Mapping[str, Any] | None) -> Amounts:
    out: Amounts = {}
    for name, text in (values or {}).items():
        try:
            out[name] = amount(name, str(text))
        except ValueError:
            continue  # validation rejects these; an unparseable stored value counts as nothing
    return out


def _container_requests(container: Mapping[str, Any]) -> Amounts:
    resources = container.get("resources") or {}
    # A limit without a request defaults the request (done by the API server, but be safe for old objects).
    return amounts(resources.get("requests") or resources.get("limits"))


def pod_requests(pod: Mapping[str, Any]) -> Amounts:
    spec = pod.get("spec") or {}
    total: Amounts = {}
    for container in spec.get("containers") or ():
        for name, value in _container_requests(container).items():
            total[name] = total.get(name, 0) + value
    sidecars: Amounts = {}  # restartable init containers keep running beside the app containers
    for init in spec.get("initContainers") or ():
        requests = _container_requests(init)
        if init.get("restartPolicy") == "Always":
            for name, value in requests.items():
                sidecars[name] = sidecars.get(name, 0) + value
            continue
        for name, value in requests.items():
            total[name] = max(total.get(name, 0), value + sidecars.get(name, 0))
    for name, value in sidecars.items():
        total[name] = total.get(name, 0) + value
    for name, value in amounts(spec.get("overhead")).items():
        total[name] = total.get(name, 0) + value
    return total


def scoring_requests(pod: Mapping[str, Any], requests: Amounts) -> tuple[int, int]:
    """(cpu, memory) for scoring: a pod requesting nothing still counts as a small one."""
    containers = len((pod.get("spec") or {}).get("containers") or ()) or 1
    cpu = requests.get(CPU) or DEFAULT_CPU_REQUEST * containers
    memory = requests.get(MEMORY) or DEFAULT_MEMORY_REQUEST * containers
    return cpu, memory
