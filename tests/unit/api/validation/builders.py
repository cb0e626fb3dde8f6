"""Minimal valid objects for the validation tests, and a way to list an object's problems.

Each builder returns a fresh, valid object; tests change one thing and look at what validation says.
`problems` defaults the object first, as the API server does, so tests write what a user would send.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.api import defaults, validation

UID = "6b1a6b2e-7a4c-4b8e-9d3f-0a1b2c3d4e5f"

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def problems(obj: dict[str, Any], old: dict[str, Any] | None = None, **kwargs: Any) -> list[tuple[str, str]]:
    """(field, message) of every cause, after defaulting a copy the way the API server does."""
    obj = copy.deepcopy(obj)
    defaults.default(obj)
    if old is None:
        if obj["kind"] == "Job":
            defaults.generate_job_selector(obj)
        found = validation.validate_create(obj)
    else:
        old = copy.deepcopy(old)
        defaults.default(old)
        found = validation.validate_update(obj, old, **kwargs)
    return [(cause.field, cause.message) for cause in found]


def stored(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as it was stored: defaulted, with the server-owned metadata of an existing object."""
    obj = copy.deepcopy(obj)
    defaults.default(obj)
    obj["metadata"].update({"uid": UID, "resourceVersion": "7", "creationTimestamp": "2025-01-01T00:00:00Z"})
    return obj


def container(name: str = "app", image: str = "nginx:1.27", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **fields}


def pod_spec(**fields: Any) -> dict[str, Any]:
    return {"containers": [container()], **fields}


def pod(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": pod_spec(**spec),
    }


def template(labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "web"} if labels is None else labels}, "spec": pod_spec(**spec)}


def deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template(), **spec},
    }


def workload(kind: str, **spec: Any) -> dict[str, Any]:
    obj = deployment(**spec)
    obj["kind"] = kind
    return obj


def job(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default", "uid": UID},
        "spec": {"template": template(restartPolicy="Never"), **spec},
    }


def service(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec},
    }
