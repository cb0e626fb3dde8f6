"""ConfigMaps, Secrets, Namespaces, volumes and claims, quotas, limit ranges, nodes and leases."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from .builders import problems, stored

CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


def config_map(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"},
        **fields,
    }


def secret(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "default"},
        **fields,
    }


def claim(**spec: Any) -> dict[str, Any]:
    base = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {**base, **spec},
    }


def volume(**spec: Any) -> dict[str, Any]:
    base = {
        "capacity": {"storage": "10Gi"},
        "accessModes": ["ReadWriteOnce"],
        "hostPath": {"path": "/mnt/data"},
    }
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-1"},
        "spec": {**base, **spec},
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("a config map", config_map(data={"app.properties": "a=1"}), []),
    (
        "config keys",
        config_map(data={"a/b": "x"}),
        [("data[a/b]", f'Invalid value: "a/b": {CONFIG_KEY_MSG}')],
    ),
    (
        "config key ..",
        config_map(data={"..data": "x"}),
        [("data[..data]", "Invalid value: \"..data\": must not start with '..'")],
    ),
    (
        "config size",
        config_map(data={"big": "x" * (1024 * 1024 + 1)}),
        [("[]", "Too long: may not be more than 1048576 bytes")],
    ),
    (
        "keys in both bags",
        config_map(data={"k": "x"}, binaryData={"k": b64("y")}),
        [("data[k]", 'Invalid value: "k": duplicate of key present in binaryData')],
    ),
    ("a secret", secret(data={"password": b64("s3cret")}), []),
    (
        "secret size",
        secret(data={"big": b64("x" * (1024 * 1024 + 1))}),
        [("data", "Too long: may not be more than 1048576 bytes")],
    ),
    (
        "tls secrets",
        secret(type="kubernetes.io/tls", data={"tls.crt": b64("c")}),
        [("data[tls.key]", "Required value")],
    ),
    (
        "docker config secrets",
        secret(type="kubernetes.io/dockerconfigjson", data={}),
        [("data[.dockerconfigjson]", "Required value")],
    ),
    ("a claim", claim(), []),
    (
        "access modes",
        claim(accessModes=[]),
        [("spec.accessModes", "Required value: at least 1 access mode is required")],
    ),
    (
        "access mode values",
        claim(accessModes=["ReadWriteSometimes"]),
        [
            (
                "spec.accessModes",
                'Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", '
                '"ReadWriteOnce", "ReadWriteOncePod"',
            )
        ],
    ),
    ("storage request", claim(resources={}), [("spec.resources[storage]", "Required value")]),
    (
        "storage size",
        claim(resources={"requests": {"storage": "0"}}),
        [("spec.resources[storage]", 'Invalid value: "0": must be greater than zero')],
    ),
    ("a volume", volume(), []),
    ("volume source", volume(hostPath=None), [("spec", "Required value: must specify a volume type")]),
    (
        "one volume source",
        volume(nfs={"server": "nfs.local", "path": "/exports"}),
        [("spec.nfs", "Forbidden: may not specify more than 1 volume type")],
    ),
    (
        "volume capacity",
        volume(capacity={}),
        [
            ("spec.capacity", "Required value"),
            ("spec.capacity", 'Unsupported value: {}: supported values: "storage"'),
        ],
    ),
    (
        "reclaim policy",
        volume(persistentVolumeReclaimPolicy="Keep"),
        [
            (
                "spec.persistentVolumeReclaimPolicy",
                'Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
            )
        ],
    ),
    (
        "storage class provisioner",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local"},
            "provisioner": "",
        },
        [("provisioner", "Required value")],
    ),
    (
        "quota quantities",
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "q", "namespace": "default"},
            "spec": {"hard": {"pods": "1.5", "cpu": "-1", "bananas": "1"}},
        },
        [
            ("spec.hard[pods]", 'Invalid value: "1500m": must be an integer'),
            ("spec.hard[cpu]", 'Invalid value: "-1": must be greater than or equal to 0'),
            (
                "spec.hard[bananas]",
                'Invalid value: "bananas": must be a standard resource type or fully qualified',
            ),
            ("spec.hard[bananas]", 'Invalid value: "bananas": must be a standard resource for quota'),
        ],
    ),
    (
        "limit range order",
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "limits", "namespace": "default"},
            "spec": {"limits": [{"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}}]},
        },
        [
            ("spec.limits[0].min[cpu]", 'Invalid value: "2": min value 2 is greater than max value 1'),
            (
                "spec.limits[0].defaultRequest[cpu]",
                'Invalid value: "1": min value 2 is greater than default request value 1',
            ),
            (
                "spec.limits[0].default[cpu]",
                'Invalid value: "2": min value 2 is greater than default value 1',
            ),
        ],
    ),
    (
        "lease durations",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
            "spec": {"leaseDurationSeconds": 0},
        },
        [("spec.leaseDurationSeconds", "Invalid value: 0: must be greater than 0")],
    ),
    (
        "node taints",
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "node-1"},
            "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]},
        },
        [
            (
                "metadata.taints[0].effect",
                'Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", '
                '"NoExecute"',
            )
        ],
    ),
]


@pytest.mark.parametrize(("case", "obj", "expected"), CASES, ids=[case[0] for case in CASES])
def test_rules(case: str, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(obj) == expected


IMMUTABLE_SET = "Forbidden: field is immutable when `immutable` is set"


@pytest.mark.parametrize("make", [config_map, secret])
def test_immutable_config_never_changes(make: Any) -> None:
    old = stored(make(data={"k": b64("v")}, immutable=True))
    new = copy.deepcopy(old)
    new["data"] = {"k": b64("w")}
    assert problems(new, old) == [("data", IMMUTABLE_SET)]
    new["immutable"] = False
    assert problems(new, old) == [("immutable", IMMUTABLE_SET), ("data", IMMUTABLE_SET)]
    relabeled = copy.deepcopy(old)
    relabeled["metadata"]["labels"] = {"team": "a"}
    assert problems(relabeled, old) == []


def test_a_secret_keeps_its_type() -> None:
    old = stored(secret(data={"k": b64("v")}))
    new = copy.deepcopy(old)
    new["type"] = "kubernetes.io/basic-auth"
    new["data"] = {"username": b64("u")}
    assert problems(new, old) == [("type", 'Invalid value: "kubernetes.io/basic-auth": field is immutable')]


def test_claims_only_grow() -> None:
    old = stored(claim())
    bigger = copy.deepcopy(old)
    bigger["status"] = {"phase": "Bound"}
    bigger["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert problems(bigger, old) == []
    smaller = copy.deepcopy(bigger)
    smaller["spec"]["resources"]["requests"]["storage"] = "512Mi"
    assert problems(smaller, old) == [
        ("spec.resources.requests.storage", "Forbidden: field can not be less than previous value")
    ]
    other_mode = copy.deepcopy(old)
    other_mode["spec"]["accessModes"] = ["ReadWriteMany"]
    assert problems(other_mode, old) == [
        (
            "spec",
            "Forbidden: spec is immutable after creation except resources.requests and "
            "volumeAttributesClassName for bound claims",
        )
    ]


def test_a_volumes_source_is_fixed() -> None:
    old = stored(volume())
    new = copy.deepcopy(old)
    new["spec"]["hostPath"]["path"] = "/mnt/other"
    assert problems(new, old) == [
        ("spec.persistentvolumesource", "Forbidden: spec.persistentvolumesource is immutable after creation")
    ]


def test_namespace_status_follows_deletion() -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    old = stored(namespace)
    new = copy.deepcopy(old)
    new["status"] = {"phase": "Terminating"}
    assert problems(new, old, subresource="status") == [
        (
            "status.Phase",
            "Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty",
        )
    ]
