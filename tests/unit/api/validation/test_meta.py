"""ObjectMeta rules shared by every kind: names per kind, namespace, labels, annotations, finalizers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api import validation

from .builders import (
    DNS1035_MSG,
    LABEL_MSG,
    LABEL_VALUE_MSG,
    NAME_PART_MSG,
    SUBDOMAIN_MSG,
    deployment,
    pod,
    problems,
    service,
    stored,
    workload,
)


def with_meta(obj: dict[str, Any], **meta: Any) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"].update(meta)
    return obj


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "default"},
}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (pod(), []),
        (with_meta(pod(), name="web.v1"), []),
        (with_meta(pod(), name="Web"), [("metadata.name", f'Invalid value: "Web": {SUBDOMAIN_MSG}')]),
        (with_meta(pod(), name=""), [("metadata.name", "Required value: name or generateName is required")]),
        (with_meta(pod(), name="web-x7k2p", generateName="web-"), []),
        (
            with_meta(pod(), name="Web-x7k2p", generateName="Web-"),
            [
                ("metadata.generateName", f'Invalid value: "Web-": {SUBDOMAIN_MSG}'),
                ("metadata.name", f'Invalid value: "Web-x7k2p": {SUBDOMAIN_MSG}'),
            ],
        ),
        (service(), []),
        (with_meta(service(), name="1web"), [("metadata.name", f'Invalid value: "1web": {DNS1035_MSG}')]),
        (NAMESPACE, []),
        (
            with_meta(NAMESPACE, name="team.a"),
            [("metadata.name", 'Invalid value: "team.a": must not contain dots')],
        ),
        (
            with_meta(workload("StatefulSet"), name="db.main"),
            [("metadata.name", 'Invalid value: "db.main": must not contain dots')],
        ),
        (with_meta(deployment(), name="web.main"), []),
        (
            with_meta(CONFIG_MAP, name="a" * 254),
            [("metadata.name", f'Invalid value: "{"a" * 254}": must be no more than 253 characters')],
        ),
    ],
)
def test_names_follow_each_kinds_rule(obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(obj) == expected


def test_namespace_is_required_for_namespaced_kinds_and_forbidden_otherwise() -> None:
    no_namespace = copy.deepcopy(CONFIG_MAP)
    del no_namespace["metadata"]["namespace"]
    assert problems(no_namespace) == [("metadata.namespace", "Required value")]
    assert problems(with_meta(CONFIG_MAP, namespace="Team")) == [
        ("metadata.namespace", f'Invalid value: "Team": {LABEL_MSG}')
    ]
    assert problems(with_meta(NAMESPACE, namespace="default")) == [
        ("metadata.namespace", "Forbidden: not allowed on this type")
    ]


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"labels": {"app.kubernetes.io/name": "web", "tier": ""}}, []),
        (
            {"labels": {"tier": "front end"}},
            [("metadata.labels", f'Invalid value: "front end": {LABEL_VALUE_MSG}')],
        ),
        ({"labels": {"my key": "v"}}, [("metadata.labels", f'Invalid value: "my key": {NAME_PART_MSG}')]),
        (
            {"labels": {"tier": "x" * 64}},
            [("metadata.labels", f'Invalid value: "{"x" * 64}": must be no more than 63 characters')],
        ),
        ({"annotations": {"Example.com/Note": "ok"}}, []),
        (
            {"annotations": {"bad key": "v"}},
            [("metadata.annotations", f'Invalid value: "bad key": {NAME_PART_MSG}')],
        ),
        (
            {"annotations": {"big": "x" * 262142}},
            [("metadata.annotations", "Too long: may not be more than 262144 bytes")],
        ),
        ({"finalizers": ["example.com/cleanup", "kubernetes", "foregroundDeletion"]}, []),
        (
            {"finalizers": ["cleanup"]},
            [
                (
                    "metadata.finalizers[0]",
                    'Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully '
                    "qualified",
                )
            ],
        ),
        (
            {"finalizers": ["orphan", "foregroundDeletion"]},
            [
                (
                    "metadata.finalizers",
                    'Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and '
                    "foregroundDeletion cannot be both set",
                )
            ],
        ),
        (
            {"generation": -1},
            [("metadata.generation", "Invalid value: -1: must be greater than or equal to 0")],
        ),
        (
            {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": ""}]},
            [("metadata.ownerReferences.uid", 'Invalid value: "": must not be empty')],
        ),
    ],
)
def test_labels_annotations_finalizers_and_owners(
    meta: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert problems(with_meta(CONFIG_MAP, **meta)) == expected


def test_identity_and_timestamps_cannot_change_on_update() -> None:
    old = stored(CONFIG_MAP)
    new = with_meta(old, uid="another", namespace="other")
    assert problems(new, old) == [
        ("metadata.namespace", 'Invalid value: "other": field is immutable'),
        ("metadata.uid", 'Invalid value: "another": field is immutable'),
    ]


def test_an_object_being_deleted_gains_no_finalizers() -> None:
    old = with_meta(
        stored(CONFIG_MAP), deletionTimestamp="2025-01-01T00:00:10Z", finalizers=["example.com/a"]
    )
    new = with_meta(old, finalizers=["example.com/a", "example.com/b"])
    assert problems(new, old) == [
        (
            "metadata.finalizers",
            "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers "
            '[]string{"example.com/b"}',
        )
    ]


def test_the_package_says_which_kinds_it_covers() -> None:
    assert validation.covers("", "Pod")
    assert validation.covers("apps", "Deployment")
    assert not validation.covers("rbac.authorization.k8s.io", "Role")
    assert not validation.covers("", "Binding")  # no metadata rules of its own
    assert validation.validate_create({"apiVersion": "example.com/v1", "kind": "Widget"}) == []
