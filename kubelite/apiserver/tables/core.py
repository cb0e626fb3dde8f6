"""Table columns of the simple core kinds: namespaces, configmaps, secrets."""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import AGE, NAME, Column, Row, age, name_of, register


def _namespace(obj: dict[str, Any], now: datetime.datetime) -> Row:
    return [name_of(obj), (obj.get("status") or {}).get("phase", ""), age(obj, now)]


def _configmap(obj: dict[str, Any], now: datetime.datetime) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [name_of(obj), count, age(obj, now)]


def _secret(obj: dict[str, Any], now: datetime.datetime) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("stringData") or {})
    return [name_of(obj), obj.get("type", ""), count, age(obj, now)]


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
