"""The `scale` subresource (deployments, replicasets, statefulsets, replicationcontrollers).

It shows a workload as an autoscaling/v1 Scale: spec.replicas, status.replicas and the pod selector as a
string. Writes (PUT, or any patch applied to the Scale) change only the parent's spec.replicas; a
resourceVersion in the Scale is a precondition on the parent.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubelite.api import selectors
from kubelite.api.schema import kind_schema
from kubelite.apiserver import bodies, errors, patching
from kubelite.apiserver.chain import UserInfo
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.requestinfo import RequestInfo

if TYPE_CHECKING:
    from kubelite.apiserver.rest import RestHandler

SCALE_VERSION = "autoscaling/v1"


def _selector(obj: dict[str, Any]) -> str:
    selector = (obj.get("spec") or {}).get("selector")
    if not isinstance(selector, dict):
        return ""
    if "matchLabels" in selector or "matchExpressions" in selector:
        try:
            return selectors.to_string(selectors.from_label_selector(selector))
        except selectors.SelectorError:
            return ""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))  # replicationcontrollers: a plain map


def to_scale(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    status: dict[str, Any] = {"replicas": int((obj.get("status") or {}).get("replicas") or 0)}
    selector = _selector(obj)
    if selector:
        status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": SCALE_VERSION,
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": int((obj.get("spec") or {}).get("replicas", 1))},
        "status": status,
    }


def _replicas(scale: dict[str, Any]) -> int:
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        cause = errors.field_error("Invalid", "spec.replicas", "must be greater than or equal to 0", replicas)
        raise errors.invalid(
            errors.Resource("autoscaling", "scale", "Scale"), scale["metadata"].get("name", ""), [cause]
        )
    return replicas


async def handle(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    if info.verb == "get":
        obj, _ = await registry.get(info.namespace, info.name)
        return bodies.json_response(to_scale(obj))
    if info.verb not in ("update", "patch"):
        raise errors.method_not_allowed()
    content_type = bodies.media_type(request)
    if info.verb == "update":
        document: Any = await bodies.read_object(request)
        rest.check_body(document, registry.resource, info, kind="Scale", group_version=SCALE_VERSION)
    else:
        if content_type == bodies.APPLY_PATCH:
            raise errors.unsupported_media_type(
                content_type, [bodies.JSON_PATCH, bodies.MERGE_PATCH, bodies.STRATEGIC_PATCH]
            )
        document = patching.parse(content_type, await bodies.read_raw(request))
    schema = kind_schema("autoscaling", "v1", "Scale")

    def transform(current: dict[str, Any]) -> dict[str, Any]:
        scale = to_scale(current)
        desired = (
            document if info.verb == "update" else patching.apply_patch(schema, content_type, scale, document)
        )
        wanted_rv = (desired.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and str(wanted_rv) != current["metadata"]["resourceVersion"]:
            raise errors.conflict(registry.resource.ref, info.name, errors.MODIFIED)
        new = copy.deepcopy(current)
        new.setdefault("spec", {})["replicas"] = _replicas(desired)
        return new

    query = dict(request.query)
    dry_run = query.get("dryRun") == "All"
    result = await registry.update(
        info.namespace,
        info.name,
        transform,
        admit=rest.admission(info, user, dry_run=dry_run),
        dry_run=dry_run,
    )
    return bodies.json_response(to_scale(result.obj))
