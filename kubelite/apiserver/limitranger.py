"""LimitRanger admission, as upstream's plugin: the LimitRanges of a pod's namespace fill in the resources its
containers leave out (`default` limits, `defaultRequest` requests) and bound what they ask for (min, max,
maxLimitRequestRatio per Container, per Pod summed over its containers, and storage per
PersistentVolumeClaim).

Pods are checked on create only (their containers' resources are immutable afterwards), claims on create
and update. The defaults of every LimitRange in the namespace go in first; then each LimitRange is checked
in turn, and the first one the object breaks rejects it with 403 Forbidden, listing every violation of that
LimitRange (`[a, b]` when more than one).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from kubelite.api import quantity
from kubelite.api.quantity import Quantity
from kubelite.apiserver import errors
from kubelite.apiserver.chain import AdmissionRequest
from kubelite.apiserver.limitrangecache import LimitRangeSource
from kubelite.store import StoreError

ANNOTATION = "kubernetes.io/limit-ranger"
_MILLI = 1000

ResourceList = dict[str, Quantity]


class LimitRanger:
    def __init__(self, source: LimitRangeSource) -> None:
        self._source = source

    async def admit(self, request: AdmissionRequest) -> None:
        info = request.info
        if info.group != "" or info.subresource:
            return
        if info.resource == "limitranges":
            self._source.note_write(request.namespace)
            return
        obj = request.obj
        if obj is None or request.operation not in ("CREATE", "UPDATE"):
            return
        is_pod = info.resource == "pods" and request.operation == "CREATE"
        if not is_pod and info.resource != "persistentvolumeclaims":
            return
        if request.old is not None and (request.old.get("metadata") or {}).get("deletionTimestamp"):
            return
        try:
            limit_ranges = await self._source.get(request.namespace)
        except StoreError as exc:
            raise errors.forbidden(request.res, request.name, f"unable to list LimitRanges: {exc}") from exc
        specs = [_items(limit_range) for limit_range in limit_ranges]
        if is_pod:
            # As upstream's mutating then validating phases: every default is in before anything is checked.
            for items in specs:
                _default_pod(items, obj)
        for items in specs:
            problems = _validate_pod(items, obj) if is_pod else _validate_claim(items, obj)
            if problems:
                raise errors.forbidden(request.res, request.name, _aggregate(problems))


def _items(limit_range: dict[str, Any]) -> list[dict[str, Any]]:
    limits = (limit_range.get("spec") or {}).get("limits") or []
    return [item for item in limits if isinstance(item, dict)]


def _aggregate(problems: list[str]) -> str:
    """utilerrors.NewAggregate's message: duplicates dropped, several bracketed."""
    unique = list(dict.fromkeys(problems))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _resources(raw: Any) -> ResourceList:
    out: ResourceList = {}
    for name, value in (raw or {}).items() if isinstance(raw, dict) else ():
        try:
            out[name] = quantity.parse(value)
        except ValueError:
            continue  # validation rejects the object anyway
    return out


def _own(container: dict[str, Any], field: str) -> ResourceList:
    resources = container.get("resources")
    return _resources(resources.get(field)) if isinstance(resources, dict) else {}


def _containers(pod: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = pod.get("spec") or {}
    for kind, field in (("container", "containers"), ("init container", "initContainers")):
        for container in spec.get(field) or []:
            if isinstance(container, dict):
                yield kind, container


def _default_pod(items: list[dict[str, Any]], pod: dict[str, Any]) -> None:
    """Fill the Container-type defaults into containers that omit them, noting what was set."""
    limits: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    for item in items:
        if item.get("type") == "Container":
            requests.update(item.get("defaultRequest") or {})
            limits.update(item.get("default") or {})
    notes: list[str] = []
    for kind, container in _containers(pod):
        resources = container.setdefault("resources", {})
        if not isinstance(resources, dict):
            continue  # validation rejects it
        for field, defaults, what in (("requests", requests, "request"), ("limits", limits, "limit")):
            current = resources.setdefault(field, {})
            if not isinstance(current, dict):
                continue
            added = sorted(name for name in defaults if name not in current)
            current.update((name, defaults[name]) for name in added)
            if not current:
                del resources[field]
            if added:
                notes.append(f"{', '.join(added)} {what} for {kind} {container.get('name', '')}")
    if notes:
        annotations = pod.setdefault("metadata", {}).setdefault("annotations", {})
        annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)


def _validate_pod(items: list[dict[str, Any]], pod: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for item in items:
        kind = item.get("type")
        if kind == "Container":
            for _, container in _containers(pod):
                problems += _check(item, kind, _own(container, "requests"), _own(container, "limits"))
        elif kind == "Pod":
            problems += _check(item, kind, _pod_total(pod, "requests"), _pod_total(pod, "limits"))
    return problems


def _validate_claim(items: list[dict[str, Any]], claim: dict[str, Any]) -> list[str]:
    """Storage bounds apply to what the claim requests; its limits are not the user's input."""
    requests = _resources(((claim.get("spec") or {}).get("resources") or {}).get("requests"))
    problems: list[str] = []
    for item in items:
        if item.get("type") != "PersistentVolumeClaim":
            continue
        for name, bound in sorted(_resources(item.get("min")).items()):
            problems += _minimum(item["type"], name, bound, requests, {})
        for name, bound in sorted(_resources(item.get("max")).items()):
            problems += _maximum(item["type"], name, bound, requests, requests, by="request")
    return problems


def _check(item: dict[str, Any], kind: str, requests: ResourceList, limits: ResourceList) -> list[str]:
    problems: list[str] = []
    for name, bound in sorted(_resources(item.get("min")).items()):
        problems += _minimum(kind, name, bound, requests, limits)
    for name, bound in sorted(_resources(item.get("max")).items()):
        problems += _maximum(kind, name, bound, requests, limits, by="limit")
    for name, bound in sorted(_resources(item.get("maxLimitRequestRatio")).items()):
        problems += _ratio(kind, name, bound, requests, limits)
    return problems


def _milli(q: Quantity) -> Fraction:
    """MilliValue(): what upstream compares, rounded up to whole thousandths."""
    return Fraction(-((-q.value * _MILLI) // 1))


def _minimum(
    kind: str, name: str, bound: Quantity, requests: ResourceList, limits: ResourceList
) -> list[str]:
    head = f"minimum {name} usage per {kind} is {bound}"
    request, limit = requests.get(name), limits.get(name)
    if request is None:
        return [f"{head}.  No request is specified"]
    if _milli(request) < _milli(bound):
        return [f"{head}, but request is {request}"]
    if limit is not None and _milli(limit) < _milli(bound):
        return [f"{head}, but limit is {limit}"]
    return []


def _maximum(
    kind: str, name: str, bound: Quantity, requests: ResourceList, limits: ResourceList, *, by: str
) -> list[str]:
    """Container and Pod bounds need a limit; claim bounds (`by="request"`) look at the request alone."""
    head = f"maximum {name} usage per {kind} is {bound}"
    limit, request = limits.get(name), requests.get(name)
    if limit is None:
        return [f"{head}.  No {by} is specified"]
    if _milli(limit) > _milli(bound):
        return [f"{head}, but {by} is {limit}"]
    if request is not None and _milli(request) > _milli(bound):
        return [f"{head}, but request is {request}"]
    return []


def _ratio(kind: str, name: str, bound: Quantity, requests: ResourceList, limits: ResourceList) -> list[str]:
    head = f"{name} max limit to request ratio per {kind} is {bound}"
    request, limit = requests.get(name), limits.get(name)
    if request is None or _milli(request) == 0:
        return [f"{head}, but no request is specified or request is 0"]
    if limit is None or _milli(limit) == 0:
        return [f"{head}, but no limit is specified or limit is 0"]
    observed = _milli(limit) / _milli(request)
    if observed * _MILLI > _milli(bound):
        return [f"{head}, but provided ratio is {float(observed):f}"]
    return []


def _pod_total(pod: dict[str, Any], field: str) -> ResourceList:
    """What the pod as a whole asks for: its containers summed, or the largest init container when that is
    more (restartable init containers, sidecars, run alongside and add up), plus the pod's overhead."""
    total: ResourceList = {}
    for kind, container in _containers(pod):
        if kind == "container":
            _add(total, _own(container, field))
    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for kind, container in _containers(pod):
        if kind == "container":
            continue
        own = _own(container, field)
        if container.get("restartPolicy") == "Always":
            _add(total, own)
            _add(sidecars, own)
            running = dict(sidecars)
        else:
            running = dict(own)
            _add(running, sidecars)
        for name, value in running.items():
            if name not in init_peak or value.value > init_peak[name].value:
                init_peak[name] = value
    for name, value in init_peak.items():
        if name not in total or value.value > total[name].value:
            total[name] = value
    overhead = _resources((pod.get("spec") or {}).get("overhead"))
    if field == "requests":
        _add(total, overhead)
    else:  # overhead only raises limits that are set
        _add(total, {name: value for name, value in overhead.items() if name in total})
    return total


def _add(total: ResourceList, more: ResourceList) -> None:
    for name, value in more.items():
        current = total.get(name)
        total[name] = value if current is None else Quantity(current.value + value.value, current.notation)
