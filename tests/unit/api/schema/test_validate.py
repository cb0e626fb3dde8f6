"""Structural validation: types, unknown, duplicate and required fields, with upstream's paths and wording."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubelite.api.schema import strictjson
from kubelite.api.schema import validate as validate_module
from kubelite.api.schema.causes import Cause
from kubelite.api.schema.validate import semantic_validator, validate

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": None},
    "spec": {
        "containers": [
            {
                "name": "nginx",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"limits": {"cpu": "500m", "memory": 128974848}, "requests": {"cpu": 0.25}},
                "livenessProbe": {"httpGet": {"port": "http", "path": "/"}, "periodSeconds": 5},
                "readinessProbe": {"tcpSocket": {"port": 80}},
            }
        ],
        "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}],
    },
    "status": {"startTime": "2026-11-25T19:56:11Z", "conditions": [{"type": "Ready", "status": "True"}]},
}


def _pod(**changes: Any) -> dict[str, Any]:
    """A copy of POD with `changes` applied at dotted paths (a number segment indexes a list)."""
    pod = copy.deepcopy(POD)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target: Any = pod
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return pod


def _pairs(causes: list[Cause]) -> list[tuple[str, str]]:
    return [(cause.reason, str(cause)) for cause in causes]


def test_a_sound_pod_has_no_causes() -> None:
    assert validate(POD, "", "v1", "Pod") == []


def test_wrong_type_is_worded_as_upstream() -> None:
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "spec": {"replicas": "string"}}
    [cause] = validate(rc, "", "v1", "ReplicationController")
    assert cause.reason == "FieldValueTypeInvalid" and cause.field == "spec.replicas"
    assert str(cause) == (
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'
    )
    assert not cause.strict
    assert cause.status_cause() == {
        "reason": cause.reason,
        "message": cause.message,
        "field": "spec.replicas",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"spec__containers__0__imagePullPolicyy": "Always"},
            ("UnknownField", 'unknown field "spec.containers[0].imagePullPolicyy"'),
        ),
        ({"metadata__colour": "red"}, ("UnknownField", 'unknown field "metadata.colour"')),
        (
            {"spec__containers__0__ports": {"containerPort": 80}},
            (
                "FieldValueTypeInvalid",
                'spec.containers[0].ports: Invalid value: "object": spec.containers[0].ports in body '
                'must be of type array: "object"',
            ),
        ),
        (
            {"metadata__labels": {"app": 7}},
            (
                "FieldValueTypeInvalid",
                'metadata.labels[app]: Invalid value: "integer": metadata.labels[app] in body '
                'must be of type string: "integer"',
            ),
        ),
        (
            {"spec__hostNetwork": "true"},
            (
                "FieldValueTypeInvalid",
                'spec.hostNetwork: Invalid value: "string": spec.hostNetwork in body '
                "must be of type boolean: "
                '"string"',
            ),
        ),
        (
            {"spec__priority": True},
            (
                "FieldValueTypeInvalid",
                'spec.priority: Invalid value: "boolean": spec.priority in body '
                'must be of type integer: "boolean"',
            ),
        ),
        (
            {"spec__priority": 1.5},
            (
                "FieldValueTypeInvalid",
                'spec.priority: Invalid value: "number": spec.priority in body '
                'must be of type integer: "number"',
            ),
        ),
        (
            {"spec__priority": 2**31},
            ("FieldValueInvalid", "spec.priority: Invalid value: 2147483648: must fit in a int32 integer"),
        ),
        (
            {"spec__containers__0__name": None},
            ("FieldValueRequired", "spec.containers[0].name: Required value"),
        ),
        (
            {"spec__containers__0__resources": {"limits": {"cpu": "lots"}}},
            (
                "FieldValueInvalid",
                'spec.containers[0].resources.limits[cpu]: Invalid value: "lots": quantities must match the '
                "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ),
        ),
        (
            {"spec__containers__0__livenessProbe": {"httpGet": {"port": True}}},
            (
                "FieldValueTypeInvalid",
                'spec.containers[0].livenessProbe.httpGet.port: Invalid value: "boolean": '
                "spec.containers[0].livenessProbe.httpGet.port in body "
                'must be of type integer or string: "boolean"',
            ),
        ),
        (
            {"status__startTime": "yesterday"},
            (
                "FieldValueInvalid",
                'status.startTime: Invalid value: "yesterday": must be an RFC 3339 date-time, '
                "such as 2006-01-02T15:04:05Z",
            ),
        ),
        (
            {"spec": []},
            (
                "FieldValueTypeInvalid",
                'spec: Invalid value: "array": spec in body must be of type object: "array"',
            ),
        ),
    ],
)
def test_structural_problem(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    assert _pairs(validate(_pod(**changes), "", "v1", "Pod")) == [expected]


def test_nulls_and_numbers_for_quantities_are_accepted() -> None:
    pod = _pod(spec__nodeName=None, spec__containers__0__resources={"limits": {"memory": 1e9, "cpu": 2}})
    assert validate(pod, "", "v1", "Pod") == []


def test_required_fields_can_be_left_to_later_checks() -> None:
    pod = _pod(spec__containers__0__name=None)
    assert validate(pod, "", "v1", "Pod", check_required=False) == []


def test_base64_data_of_secrets() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "data": {"ok": "aGVsbG8=", "bad": "not base64!"}}
    assert _pairs(validate(secret, "", "v1", "Secret")) == [
        ("FieldValueInvalid", 'data[bad]: Invalid value: "not base64!": illegal base64 data')
    ]


def test_free_form_fields_accept_anything() -> None:
    event = {"type": "ADDED", "object": {"kind": "Anything", "spec": [1, 2, {"x": None}]}}
    assert validate(event, "", "v1", "WatchEvent") == []


def test_several_causes_are_all_reported_in_order() -> None:
    pod = _pod(spec__containers__0__tty="yes", spec__containers__0__colour="red", spec__restartPolicy=1)
    assert [cause.field for cause in validate(pod, "", "v1", "Pod")] == [
        "spec.containers[0].tty",
        "spec.containers[0].colour",
        "spec.restartPolicy",
    ]


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(KeyError, match="no schema for kind Widget"):
        validate({}, "example.com", "v1", "Widget")


def test_duplicate_fields_are_found_with_their_paths() -> None:
    raw = (
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "name": "b"},'
        ' "spec": {"containers": [{"name": "c", "image": "x", "image": "y"}], "containers": []}}'
    )
    value, causes = strictjson.loads(raw)
    assert value["metadata"]["name"] == "b"  # the last one wins, as upstream
    assert value["spec"]["containers"] == []
    assert [str(cause) for cause in causes] == [
        'duplicate field "metadata.name"',
        'duplicate field "spec.containers"',
    ]
    assert all(cause.reason == "DuplicateField" and cause.strict for cause in causes)


def test_duplicates_inside_lists_and_clean_documents() -> None:
    _, causes = strictjson.loads(b'{"items": [{}, {"a": 1, "a": 2, "a": 3}]}')
    assert [str(cause) for cause in causes] == ['duplicate field "items[1].a"']
    value, causes = strictjson.loads(json.dumps(POD))
    assert value == POD and causes == []
    with pytest.raises(ValueError):
        strictjson.loads("{not json")


def test_semantic_validators_run_after_structure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_module, "_SEMANTIC", {})
    seen: list[str] = []

    @semantic_validator("", "v1", "Pod")
    def no_latest(pod: dict[str, Any]) -> list[Cause]:
        seen.append(pod["metadata"]["name"])
        image = pod["spec"]["containers"][0]["image"]
        if image.endswith(":latest"):
            return [Cause("FieldValueForbidden", "spec.containers[0].image", "Forbidden: no latest tag")]
        return []

    assert validate(POD, "", "v1", "Pod") == []
    [cause] = validate(_pod(spec__containers__0__image="nginx:latest"), "", "v1", "Pod")
    assert str(cause) == "spec.containers[0].image: Forbidden: no latest tag"
    # Unknown fields do not stop semantic checks, type errors do: the check could not trust the types.
    assert len(validate(_pod(spec__containers__0__image="a:latest", spec__extra=1), "", "v1", "Pod")) == 2
    assert len(validate(_pod(spec__containers__0__image=["x"]), "", "v1", "Pod")) == 1
    assert validate(_pod(spec__containers__0__image="x:latest"), "", "v1", "Pod", semantic=False) == []
    assert len(seen) == 3
