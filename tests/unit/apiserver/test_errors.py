"""Status bodies and the one mapping from store errors."""

from __future__ import annotations

from kubelite.apiserver import errors
from kubelite.store import AlreadyExists, Conflict, Expired, FutureRevision, NotFound, Unavailable

PODS = errors.Resource("", "pods", "Pod")
DEPLOYMENTS = errors.Resource("apps", "deployments", "Deployment")


def test_store_errors_map_to_upstream_statuses() -> None:
    nf = errors.from_store_error(NotFound("k"), PODS, "nope")
    assert nf.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }
    exists = errors.from_store_error(AlreadyExists("k"), DEPLOYMENTS, "web")
    assert (exists.code, exists.reason, exists.message) == (
        409,
        "AlreadyExists",
        'deployments.apps "web" already exists',
    )
    assert exists.details == {"name": "web", "group": "apps", "kind": "deployments"}
    conflict = errors.from_store_error(Conflict("k"), PODS, "x")
    assert conflict.message == (
        'Operation cannot be fulfilled on pods "x": the object has been modified; please apply your changes '
        "to the latest version and try again"
    )
    gone = errors.from_store_error(Expired("k", compact_revision=40), PODS, "", requested_revision=12)
    assert (gone.code, gone.reason, gone.message) == (410, "Expired", "too old resource version: 12 (40)")
    future = errors.from_store_error(FutureRevision("k", current_revision=5), PODS, "", requested_revision=9)
    assert (future.code, future.reason) == (504, "Timeout")
    assert future.message == "Timeout: Too large resource version: 9, current: 5"
    assert future.details["causes"] == [
        {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
    ]
    assert errors.from_store_error(Unavailable("db down"), PODS, "x").code == 503


def test_invalid_lists_causes_like_upstream() -> None:
    one = errors.invalid(
        PODS, "p", [errors.field_error("Required", "spec.containers[0].image", "", has_value=False)]
    )
    assert one.message == 'Pod "p" is invalid: spec.containers[0].image: Required value'
    assert one.details["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}
    ]
    assert one.details["kind"] == "Pod"
    two = errors.invalid(
        DEPLOYMENTS,
        "d",
        [
            errors.field_error("Invalid", "spec.replicas", "must be greater than or equal to 0", -1),
            errors.field_error("Required", "spec.selector", "", has_value=False),
        ],
    )
    assert two.message == (
        'Deployment.apps "d" is invalid: '
        "[spec.replicas: Invalid value: -1: must be greater than or equal to 0, "
        "spec.selector: Required value]"
    )


def test_forbidden_with_and_without_name() -> None:
    named = errors.forbidden(PODS, "p", "because")
    assert (named.code, named.message) == (403, 'pods "p" is forbidden: because')
    assert errors.forbidden(PODS, "", "because").message == "pods is forbidden: because"
