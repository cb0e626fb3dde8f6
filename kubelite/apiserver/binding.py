"""Binding a pod to a node: `POST pods/<name>/binding` or `POST bindings`, with a core/v1 Binding.

This is how a scheduler assigns pods. It sets spec.nodeName once (a pod already on a node, being deleted or
still gated is a 409 Conflict worded as upstream words it), records the PodScheduled condition and copies
the Binding's annotations onto the pod. The Binding itself is never stored; the answer is a Success Status.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubelite.api import validation
from kubelite.apiserver import bodies, errors
from kubelite.apiserver.chain import UserInfo
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.requestinfo import RequestInfo

if TYPE_CHECKING:
    from kubelite.apiserver.rest import RestHandler

_POD_BINDING = errors.Resource("", "pods/binding", "Binding")


def success(code: int) -> web.Response:
    """What upstream's connect-style creates (bindings, evictions) answer."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}
    return bodies.json_response(body, status=code)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scheduled(status: dict[str, Any]) -> None:
    """PodScheduled=True; the transition time moves only when the status does."""
    conditions = status.setdefault("conditions", [])
    for condition in conditions:
        if condition.get("type") == "PodScheduled":
            if condition.get("status") != "True":
                condition.update(status="True", lastTransitionTime=_now())
            condition.pop("reason", None)
            condition.pop("message", None)
            return
    conditions.append(
        {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": _now()}
    )


def _assign(binding: dict[str, Any]) -> Any:
    meta = binding["metadata"]
    name, node = meta["name"], binding["target"]["name"]

    def transform(pod: dict[str, Any]) -> dict[str, Any]:
        pod_meta, spec = pod["metadata"], pod.setdefault("spec", {})
        if meta.get("uid") and meta["uid"] != pod_meta.get("uid"):
            why = f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: "
            raise errors.conflict(_POD_BINDING, name, why + str(pod_meta.get("uid")))
        if meta.get("resourceVersion") and meta["resourceVersion"] != pod_meta.get("resourceVersion"):
            raise errors.conflict(_POD_BINDING, name, errors.MODIFIED)
        if pod_meta.get("deletionTimestamp"):
            raise errors.conflict(
                _POD_BINDING, name, f"pod {name} is being deleted, cannot be assigned to a host"
            )
        if spec.get("nodeName"):
            raise errors.conflict(
                _POD_BINDING, name, f'pod {name} is already assigned to node "{spec["nodeName"]}"'
            )
        if spec.get("schedulingGates"):
            raise errors.conflict(_POD_BINDING, name, f"pod {name} has non-empty .spec.schedulingGates")
        spec["nodeName"] = node
        if meta.get("annotations"):
            pod_meta.setdefault("annotations", {}).update(meta["annotations"])
        _scheduled(pod.setdefault("status", {}))
        return pod

    return transform


async def bind(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    """Serves both pods/binding (`registry` is the pods') and the bindings resource (the bindings')."""
    if info.verb != "create":
        raise errors.method_not_allowed()
    pods = rest.ctx.registry("", "v1", "pods")
    bindings = rest.ctx.registry("", "v1", "bindings")
    if pods is None or bindings is None:
        raise errors.path_not_found()
    body = await bodies.read_object(request)
    # The name check is upstream's own, below: the URL names the pod, the body the binding.
    rest.check_body(body, bindings.resource, dataclasses.replace(info, name=""))
    name = body["metadata"].get("name") or ""
    if info.name and name != info.name:
        raise errors.bad_request("name in URL does not match name in Binding object")
    query = dict(request.query)
    field_validation = query.get("fieldValidation") or "Warn"
    bindings.check_structure(body, None, field_validation=field_validation, decoded=True)
    causes = validation.validate_create(body)
    if causes:
        found = [errors.Cause(c.reason, c.message, c.field) for c in causes]
        raise errors.invalid(bindings.resource.ref, name, found)
    dry_run = query.get("dryRun") == "All"
    await rest.admission(info, user, dry_run=dry_run)("CREATE", body, None)
    await pods.update(info.namespace, name, _assign(body), subresource="binding", dry_run=dry_run)
    return success(201)
