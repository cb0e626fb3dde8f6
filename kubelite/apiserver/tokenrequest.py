"""`POST serviceaccounts/<name>/token`: TokenRequest (authentication.k8s.io/v1), as upstream serves it.

The body asks for audiences (default: the API server's), a validity (default an hour, at least ten minutes)
and optionally an object (a Pod or Secret of the namespace, or a Node) the token's life is bound to. The
answer is the TokenRequest with status.token, a JWT signed with the server's service-account key
(serviceaccounttoken.py), and status.expirationTimestamp. Nothing is stored.
"""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubelite.api.schema.dsl import kind_schema
from kubelite.api.schema.validate import validate_node
from kubelite.apiserver import apiwarnings, bodies, errors
from kubelite.apiserver.chain import UserInfo
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.requestinfo import RequestInfo
from kubelite.apiserver.serviceaccounttoken import BoundObject, claims

if TYPE_CHECKING:
    from kubelite.apiserver.rest import RestHandler

GROUP_VERSION = "authentication.k8s.io/v1"
KIND = "TokenRequest"
DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600
MAX_EXPIRATION = 1 << 32
WARN_ONLY_EXPIRATION = 3607
EXTENDED_EXPIRATION = 365 * 24 * 3600
_TOKEN_REQUESTS = errors.Resource("authentication.k8s.io", "tokenrequests", KIND)
_BINDABLE = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}


def _decode_problems(body: dict[str, Any], field_validation: str) -> None:
    """Structure as upstream's decoder sees it: wrong types are a 400, unknown fields follow
    fieldValidation. Required fields are not checked: clients send an empty status, as kubectl does."""
    schema = kind_schema("authentication.k8s.io", "v1", KIND)
    assert schema is not None  # declared in kubelite/api/schema/defs/authentication.py
    found = validate_node(body, schema, check_required=False)
    strict = [c.message for c in found if c.strict]
    broken = [str(c) for c in found if not c.strict]
    if broken or (strict and field_validation == "Strict"):
        why = ", ".join(broken) or "strict decoding error: " + ", ".join(strict)
        raise errors.bad_request(f'{KIND} in version "v1" cannot be handled as a {KIND}: {why}')
    if field_validation == "Warn":
        for message in strict:
            apiwarnings.add(message)


def _check_envelope(body: dict[str, Any], info: RequestInfo) -> dict[str, Any]:
    """Kind and version, and the name and namespace (when given) against the URL's; returns the spec."""
    body.setdefault("apiVersion", GROUP_VERSION)
    body.setdefault("kind", KIND)
    if body["apiVersion"] != GROUP_VERSION or body["kind"] != KIND:
        raise errors.bad_request(
            f"the kind in the data ({body['kind']}, {body['apiVersion']}) is not a {GROUP_VERSION} {KIND}"
        )
    meta = body["metadata"] = body.get("metadata") or {}
    for key, want in (("name", info.name), ("namespace", info.namespace)):
        if meta.get(key) and meta[key] != want:
            why = f"must match the service account {key} if specified"
            raise errors.invalid(
                _TOKEN_REQUESTS, info.name, [errors.field_error("Invalid", f"metadata.{key}", why, meta[key])]
            )
    spec = body["spec"] = body.get("spec") or {}
    return spec


def _expiration(spec: dict[str, Any]) -> int:
    seconds = spec.get("expirationSeconds")
    if seconds is None:
        seconds = spec["expirationSeconds"] = DEFAULT_EXPIRATION
    causes: list[errors.Cause] = []
    if seconds < MIN_EXPIRATION:
        why = "may not specify a duration less than 10 minutes"
        causes.append(errors.field_error("Invalid", "spec.expirationSeconds", why, seconds))
    if seconds > MAX_EXPIRATION:
        why = "may not specify a duration larger than 2^32 seconds"
        causes.append(errors.field_error("Invalid", "spec.expirationSeconds", why, seconds))
    if causes:
        raise errors.invalid(_TOKEN_REQUESTS, "", causes)
    return int(seconds)


async def _get(rest: RestHandler, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    registry = rest.ctx.registry("", "v1", plural)
    if registry is None:
        return None
    obj, _ = await registry.get(namespace, name)
    return obj


async def _pod_node(rest: RestHandler, pod: dict[str, Any]) -> BoundObject | None:
    """The node the pod runs on, named in its tokens; only the name when the Node object is missing."""
    node_name = (pod.get("spec") or {}).get("nodeName") or ""
    if not node_name:
        return None
    try:
        node = await _get(rest, "nodes", "", node_name)
    except errors.ApiError as exc:
        if exc.code != 404:
            raise
        node = None
    return BoundObject("Node", node_name, node["metadata"]["uid"] if node else "")


async def _bound_objects(
    rest: RestHandler, ref: dict[str, Any], account: str, namespace: str
) -> tuple[BoundObject, BoundObject | None]:
    """The object spec.boundObjectRef names, checked the way upstream checks it, and a pod's node."""
    kind, api_version, name = ref.get("kind") or "", ref.get("apiVersion") or "", ref.get("name") or ""
    group, _, version = api_version.rpartition("/")
    plural = _BINDABLE.get(kind) if group == "" else None
    obj = await _get(rest, plural, namespace, name) if plural else None
    if obj is None:
        raise errors.bad_request(f"cannot bind token to object of type {group}/{version}, Kind={kind}")
    node = None
    if kind == "Pod":
        if (obj.get("spec") or {}).get("serviceAccountName") != account:
            raise errors.bad_request(
                f'cannot bind token for serviceaccount "{account}" to pod running with different '
                "serviceaccount name."
            )
        node = await _pod_node(rest, obj)
    uid = obj["metadata"]["uid"]
    if ref.get("uid") and ref["uid"] != uid:
        raise errors.conflict(
            errors.Resource(group, kind),
            name,
            f"the UID in the bound object reference ({ref['uid']}) does not match the UID in record. "
            "The object might have been deleted and then recreated",
        )
    return BoundObject(kind, name, uid), node


def _timestamp(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def create_token(
    rest: RestHandler, request: web.Request, info: RequestInfo, user: UserInfo, registry: Registry
) -> web.StreamResponse:
    signer = rest.ctx.token_signer
    if signer is None:
        raise errors.path_not_found()
    if info.verb != "create":
        raise errors.method_not_allowed()
    body = await bodies.read_object(request)
    _decode_problems(body, request.query.get("fieldValidation") or "Warn")
    spec = _check_envelope(body, info)
    account, _ = await registry.get(info.namespace, info.name)
    spec["audiences"] = list(spec.get("audiences") or signer.audiences)
    now = int(time.time())
    body["metadata"].update(name=info.name, namespace=info.namespace, creationTimestamp=_timestamp(now))
    body.pop("status", None)
    seconds = _expiration(spec)
    await rest.admission(info, user, dry_run=False)("CREATE", body, None)
    bound = node = None
    if spec.get("boundObjectRef"):
        bound, node = await _bound_objects(rest, spec["boundObjectRef"], info.name, info.namespace)
    # As upstream (--service-account-extend-token-expiration): the kubelet's pod tokens asked for the
    # magic 3607 s last a year, carrying the requested lifetime as `warnafter`, so legacy clients that
    # never re-read their token keep working while the staleness stays visible.
    lifetime, warn_after = seconds, 0
    if bound is not None and bound.kind == "Pod" and seconds == WARN_ONLY_EXPIRATION:
        if set(spec["audiences"]) <= set(signer.audiences):
            lifetime, warn_after = EXTENDED_EXPIRATION, seconds
    payload = claims(
        namespace=info.namespace,
        name=info.name,
        uid=account["metadata"]["uid"],
        audiences=spec["audiences"],
        expiration_seconds=lifetime,
        bound=bound,
        node=node,
        warn_after=warn_after,
        now=now,
        issuer=signer.issuer,
    )
    body["status"] = {"token": signer.sign(payload), "expirationTimestamp": _timestamp(now + seconds)}
    return bodies.json_response(body, status=201)
