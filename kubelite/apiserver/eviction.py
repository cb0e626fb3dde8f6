"""Evicting a pod: `POST pods/<name>/eviction` with a policy/v1 Eviction, the way `kubectl drain` asks.

An eviction is a delete (honouring its DeleteOptions) that respects the pod's PodDisruptionBudget: when
the one budget selecting the pod allows no disruption, the answer is 429 TooManyRequests with upstream's
words and the pod stays; otherwise the budget's disruptionsAllowed goes down by one and the pod is
recorded in its disruptedPods before the delete. Pods that are not running (pending, finished, already
deleting) are deleted without consulting budgets, as upstream does. Budgets are consulted only when the
server serves policy/v1 poddisruptionbudgets.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubelite.api.validation.meta import selector_matches
from kubelite.apiserver import bodies, deletion, errors
from kubelite.apiserver.binding import success
from kubelite.apiserver.chain import UserInfo
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.requestinfo import RequestInfo

if TYPE_CHECKING:
    from kubelite.apiserver.rest import RestHandler

_VERSIONS = ("policy/v1", "policy/v1beta1")
_BUDGET_CAUSE = "DisruptionBudget"
_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget."
_SEVERAL_BUDGETS = (
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
)
_MAX_DISRUPTED_PODS = 2000
_RETRIES = 8
_PDBS = errors.Resource("policy", "poddisruptionbudget")


def _too_many_requests(message: str, *, retry_after: int = 0) -> errors.ApiError:
    details: dict[str, Any] = {"causes": [{"reason": _BUDGET_CAUSE, "message": message}]}
    if retry_after:
        details["retryAfterSeconds"] = retry_after
    return errors.ApiError(429, "TooManyRequests", _REFUSED, details)


def _ignores_budgets(pod: dict[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def _budgets(pdbs: Registry, pod: dict[str, Any]) -> list[dict[str, Any]]:
    """The budgets of the pod's namespace whose selector selects it (a pod without labels has none)."""
    labels = pod["metadata"].get("labels") or {}
    if not labels:
        return []
    listed = await pdbs.store.list(pdbs.resource.list_prefix(pod["metadata"]["namespace"]))
    found = []
    for kv in listed.items:
        pdb = pdbs.decode(kv)
        if selector_matches((pdb.get("spec") or {}).get("selector"), labels):
            found.append(pdb)
    return found


def _check(pdb: dict[str, Any], pod: dict[str, Any]) -> bool:
    """Whether this eviction takes one of the budget's disruptions (False: the pod may go without); raises
    when the budget forbids it."""
    name, status = pdb["metadata"]["name"], pdb.get("status") or {}
    healthy, desired = int(status.get("currentHealthy") or 0), int(status.get("desiredHealthy") or 0)
    if not _ready(pod):
        policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy")
        if policy == "AlwaysAllow" or (healthy >= desired > 0):
            return False
    if int(status.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 0):
        raise _too_many_requests(
            f"The disruption budget {name} is still being processed by the server.", retry_after=10
        )
    allowed = int(status.get("disruptionsAllowed") or 0)
    if allowed < 0:
        raise errors.forbidden(_PDBS, name, "pdb disruptions allowed is negative")
    if len(status.get("disruptedPods") or {}) > _MAX_DISRUPTED_PODS:
        why = "DisruptedPods map too big - too many evictions not confirmed by PDB controller"
        raise errors.forbidden(_PDBS, name, why)
    if allowed == 0:
        raise _too_many_requests(
            f"The disruption budget {name} needs {desired} healthy pods and has {healthy} currently"
        )
    return True


async def _take_disruption(pdbs: Registry, pdb: dict[str, Any], pod_name: str) -> bool:
    """Record the disruption on the budget as read; False if the budget changed meanwhile (retry)."""
    seen = pdb["metadata"]["resourceVersion"]

    def transform(current: dict[str, Any]) -> dict[str, Any]:
        if current["metadata"]["resourceVersion"] != seen:
            raise errors.conflict(pdbs.resource.ref, current["metadata"]["name"], errors.MODIFIED)
        status = current.setdefault("status", {})
        status["disruptionsAllowed"] = int(status.get("disruptionsAllowed") or 0) - 1
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status.setdefault("disruptedPods", {})[pod_name] = now
        return current

    try:
        await pdbs.update(
            pdb["metadata"]["namespace"], pdb["metadata"]["name"], transform, subresource="status"
        )
    except errors.ApiError as exc:
        if exc.code == 409:
            return False
        raise
    return True


async def _respect_budgets(rest: RestHandler, pods: Registry, info: RequestInfo, *, dry_run: bool) -> None:
    pdbs = rest.ctx.registry("policy", "v1", "poddisruptionbudgets")
    for _attempt in range(_RETRIES):
        pod, _ = await pods.get(info.namespace, info.name)
        if pdbs is None or _ignores_budgets(pod):
            return
        budgets = await _budgets(pdbs, pod)
        if not budgets:
            return
        if len(budgets) > 1:
            raise errors.ApiError(500, "InternalError", _SEVERAL_BUDGETS)
        if not _check(budgets[0], pod) or dry_run:
            return
        if await _take_disruption(pdbs, budgets[0], info.name):
            return
    raise _too_many_requests("too many conflicts while checking the disruption budget")


async def evict(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    if info.verb != "create":
        raise errors.method_not_allowed()
    body = await bodies.read_object(request)
    body.setdefault("apiVersion", "policy/v1")
    body.setdefault("kind", "Eviction")
    if body["apiVersion"] not in _VERSIONS or body["kind"] != "Eviction":
        raise errors.bad_request(
            f"the kind in the data ({body['kind']}, {body['apiVersion']}) is not a policy/v1 Eviction"
        )
    meta = body.setdefault("metadata", {})
    if not isinstance(meta, dict) or meta.get("name") != info.name:
        raise errors.bad_request("name in URL does not match name in Eviction object")
    raw_options = body.get("deleteOptions")
    options = deletion.parse_options(
        raw_options if isinstance(raw_options, dict) else None, dict(request.query)
    )
    admit = rest.admission(info, user, dry_run=options.dry_run)
    await admit("CREATE", body, None)
    await _respect_budgets(rest, registry, info, dry_run=options.dry_run)
    await deletion.delete(registry, info.namespace, info.name, options, admit=admit)
    return success(201)
