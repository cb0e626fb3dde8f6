"""Status bodies become the right exception once; resources resolve to upstream's URL paths."""

from __future__ import annotations

import pytest

from kubelite.client import errors, paths


def status(code: int, reason: str, message: str = "m", **details: object) -> dict[str, object]:
    body: dict[str, object] = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code}
    body.update(reason=reason, message=message)
    if details:
        body["details"] = details
    return body


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (404, "NotFound", errors.NotFound),
        (409, "AlreadyExists", errors.AlreadyExists),
        (409, "Conflict", errors.Conflict),
        (410, "Expired", errors.Expired),
        (410, "Gone", errors.Gone),
        (422, "Invalid", errors.Invalid),
        (403, "Forbidden", errors.Forbidden),
        (401, "Unauthorized", errors.Unauthorized),
        (400, "BadRequest", errors.BadRequest),
        (429, "TooManyRequests", errors.TooManyRequests),
        (500, "InternalError", errors.ServerError),
        (504, "Timeout", errors.ServerError),
    ],
)
def test_status_maps_to_its_exception(code: int, reason: str, cls: type[errors.ApiError]) -> None:
    error = errors.from_status(code, status(code, reason, "boom"))
    assert type(error) is cls
    assert (error.code, error.reason, error.message, str(error)) == (code, reason, "boom", "boom")


def test_hierarchy_lets_callers_catch_by_meaning() -> None:
    assert issubclass(errors.AlreadyExists, errors.Conflict)
    assert issubclass(errors.Expired, errors.Gone)
    assert issubclass(errors.ApiError, errors.ClientError) and issubclass(
        errors.TransportError, errors.ClientError
    )


def test_causes_and_details_are_kept() -> None:
    body = status(
        422,
        "Invalid",
        'ConfigMap "A_" is invalid: metadata.name: Invalid value',
        name="A_",
        kind="ConfigMap",
        causes=[{"reason": "FieldValueInvalid", "message": "Invalid value", "field": "metadata.name"}],
    )
    error = errors.from_status(422, body)
    assert error.causes == [errors.Cause("FieldValueInvalid", "Invalid value", "metadata.name")]
    assert error.details["name"] == "A_" and error.status == body
    throttled = errors.from_status(429, status(429, "TooManyRequests", retryAfterSeconds=3))
    assert throttled.retry_after == 3.0


def test_bodies_that_are_not_a_status_fall_back_on_the_code() -> None:
    assert type(errors.from_status(404, None)) is errors.NotFound
    unknown = errors.from_status(503, {"unexpected": True})
    assert type(unknown) is errors.ServerError and unknown.reason == "ServiceUnavailable"
    assert "HTTP 503" in unknown.message
    odd = errors.from_status(418, "teapot")
    assert type(odd) is errors.ApiError and odd.reason == "Unknown"
    assert errors.from_status(409, None).reason == "Conflict"


def test_resources_resolve_by_plural_kind_or_object() -> None:
    deployments = paths.resource("apps", "v1", "deployments")
    assert paths.kind("apps/v1", "Deployment") is deployments
    assert paths.for_object({"apiVersion": "v1", "kind": "Pod"}) is paths.resource("", "v1", "pods")
    assert paths.split_api_version("v1") == ("", "v1")
    with pytest.raises(LookupError):
        paths.resource("apps", "v1", "gadgets")
    with pytest.raises(LookupError):
        paths.kind("v1", "Gadget")


def test_paths_follow_the_api_layout() -> None:
    pods = paths.resource("", "v1", "pods")
    nodes = paths.resource("", "v1", "nodes")
    leases = paths.resource("coordination.k8s.io", "v1", "leases")
    assert paths.path(pods) == "/api/v1/pods"
    assert paths.path(pods, namespace="ns") == "/api/v1/namespaces/ns/pods"
    assert (
        paths.path(pods, namespace="ns", name="p", subresource="binding")
        == "/api/v1/namespaces/ns/pods/p/binding"
    )
    assert paths.path(pods, namespace="ns", name="p", subresource="eviction").endswith("/pods/p/eviction")
    assert paths.path(nodes, name="n1", subresource="status") == "/api/v1/nodes/n1/status"
    assert paths.path(nodes, namespace="ignored", name="n1") == "/api/v1/nodes/n1"
    assert paths.path(leases, namespace="kube-system", name="l") == (
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l"
    )
    assert paths.path(pods, namespace="ns", name="a b/c") == "/api/v1/namespaces/ns/pods/a%20b%2Fc"
    with pytest.raises(ValueError, match="namespace"):
        paths.path(pods, name="p")
    with pytest.raises(ValueError):
        paths.path(pods, namespace="ns", name="")
    with pytest.raises(ValueError):
        paths.path(pods, namespace="ns", subresource="status")
