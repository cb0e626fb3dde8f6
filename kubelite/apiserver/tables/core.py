"""Table columns of the simple core kinds: namespaces, configmaps, secrets, serviceaccounts, podtemplates,
resourcequotas, and limitranges (which upstream prints with its default NAME / CREATED AT columns)."""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import AGE, NAME, Column, Row, age, name_of, parse_time, register
from kubelite.apiserver.tables.formats import container_cells, format_labels


def _namespace(obj: dict[str, Any], now: datetime.datetime) -> Row:
    return [name_of(obj), (obj.get("status") or {}).get("phase", ""), age(obj, now)]


def _configmap(obj: dict[str, Any], now: datetime.datetime) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [name_of(obj), count, age(obj, now)]


def _secret(obj: dict[str, Any], now: datetime.datetime) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("stringData") or {})
    return [name_of(obj), obj.get("type", ""), count, age(obj, now)]


def _service_account(obj: dict[str, Any], now: datetime.datetime) -> Row:
    return [name_of(obj), len(obj.get("secrets") or []), age(obj, now)]


def _pod_template(obj: dict[str, Any], now: datetime.datetime) -> Row:
    template = obj.get("template") or {}
    return [
        name_of(obj),
        *container_cells(template.get("spec")),
        format_labels((template.get("metadata") or {}).get("labels")),
    ]


def _is_limit(resource: str) -> bool:
    prefix, dot, _ = resource.partition(".")
    return bool(dot) and prefix == "limits"


def _quota_usage(status: dict[str, Any], *, limits: bool) -> str:
    """`requests.cpu: 500m/2, pods: 3/10`: used/hard of each resource, sorted by name."""
    hard, used = status.get("hard") or {}, status.get("used") or {}
    return ", ".join(
        f"{resource}: {used.get(resource, '0')}/{hard[resource]}"
        for resource in sorted(hard)
        if _is_limit(resource) == limits
    )


def _resource_quota(obj: dict[str, Any], now: datetime.datetime) -> Row:
    status = obj.get("status") or {}
    return [
        name_of(obj),
        age(obj, now),
        _quota_usage(status, limits=False),
        _quota_usage(status, limits=True),
    ]


def _created_at(obj: dict[str, Any], now: datetime.datetime) -> Row:
    """Upstream's default row: the creation time in UTC, RFC 3339 (year 1 when unset)."""
    created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    moment = created.astimezone(datetime.UTC).replace(tzinfo=None) if created else datetime.datetime.min
    return [name_of(obj), moment.isoformat(timespec="seconds") + "Z"]


register(
    "",
    "namespaces",
    (NAME, Column("Status", description="The status of the namespace"), AGE),
    _namespace,
)
register(
    "",
    "configmaps",
    (NAME, Column("Data", type="string", description="Number of data entries in the ConfigMap"), AGE),
    _configmap,
)
register(
    "",
    "secrets",
    (
        NAME,
        Column("Type", description="The type of the secret"),
        Column("Data", type="string", description="Number of data entries in the Secret"),
        AGE,
    ),
    _secret,
)
register(
    "",
    "serviceaccounts",
    (NAME, Column("Secrets", description="Number of secrets listed by the service account."), AGE),
    _service_account,
)
register(
    "",
    "podtemplates",
    (
        NAME,
        Column("Containers", description="Names of each container in the template."),
        Column("Images", description="Images referenced by each container in the template."),
        Column("Pod Labels", description="The labels for the pod template."),
    ),
    _pod_template,
)
register(
    "",
    "resourcequotas",
    (
        NAME,
        AGE,
        Column(
            "Request",
            description="Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column(
            "Limit",
            description="Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
    ),
    _resource_quota,
)
register(
    "",
    "limitranges",
    (NAME, Column("Created At", type="date", description=AGE.description)),
    _created_at,
)
