"""ConfigMaps, Secrets, Namespaces and ServiceAccounts.

ConfigMap and Secret keys are config keys, their content at most 1 MiB; once `immutable` is true their
data can never change (`data: Forbidden: field is immutable when `immutable` is set`). Typed Secrets need
their well-known keys. Namespace names are DNS labels.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names

MAX_SIZE = 1024 * 1024
IMMUTABLE_SET = "field is immutable when `immutable` is set"


def _decoded_size(value: str) -> int:
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return len(value)


def _keys(data: Mapping[str, Any] | None, path: str) -> list[Cause]:
    return [e.invalid(e.key(path, k), k, msg) for k in (data or {}) for msg in names.is_config_map_key(k)]


def validate_config_map(config_map: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        config_map.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain
    )
    data, binary = config_map.get("data") or {}, config_map.get("binaryData") or {}
    found += _keys(data, "data")
    found += [
        e.invalid(e.key("data", k), k, "duplicate of key present in binaryData") for k in data if k in binary
    ]
    found += _keys(binary, "binaryData")
    size = sum(len(str(v).encode()) for v in data.values()) + sum(_decoded_size(v) for v in binary.values())
    if size > MAX_SIZE:
        # Upstream reports the whole object: an empty field path, which renders as "[]".
        found.append(e.too_long("[]", MAX_SIZE))
    return found


def _immutable_content(
    new: Mapping[str, Any], old: Mapping[str, Any], fields: tuple[str, ...]
) -> list[Cause]:
    if not old.get("immutable"):
        return []
    found = [] if new.get("immutable") else [e.forbidden("immutable", IMMUTABLE_SET)]
    return found + [
        e.forbidden(field, IMMUTABLE_SET)
        for field in fields
        if (new.get(field) or None) != (old.get(field) or None)
    ]


def validate_config_map_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    found += _immutable_content(new, old, ("data", "binaryData"))
    return found + validate_config_map(new)


def _json_problem(value: str) -> str:
    try:
        json.loads(base64.b64decode(value))
    except (ValueError, binascii.Error) as error:
        return str(error)
    return ""


def _typed_secret(secret: Mapping[str, Any]) -> list[Cause]:
    data = secret.get("data") or {}
    kind = secret.get("type") or ""
    found: list[Cause] = []
    if kind == "kubernetes.io/service-account-token":
        if not ((secret.get("metadata") or {}).get("annotations") or {}).get(
            "kubernetes.io/service-account.name"
        ):
            found.append(e.required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            found.append(e.required(e.key("data", key)))
        elif problem := _json_problem(data[key]):
            found.append(e.invalid(e.key("data", key), "<secret contents redacted>", problem))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            found += [e.required("data[username]"), e.required("data[password]")]
    elif kind == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            found.append(e.required("data[ssh-privatekey]"))
    elif kind == "kubernetes.io/tls":
        found += [e.required(e.key("data", key)) for key in ("tls.crt", "tls.key") if key not in data]
    return found


def validate_secret(secret: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        secret.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain
    )
    data = secret.get("data") or {}
    found += [e.invalid(e.key("data", k), k, msg) for k in data for msg in names.is_config_map_key(k)]
    if sum(_decoded_size(v) for v in data.values()) > MAX_SIZE:
        found.append(e.too_long("data", MAX_SIZE))
    return found + _typed_secret(secret)


def validate_secret_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    found += e.immutable("type", new.get("type") or "", old.get("type") or "")
    found += _immutable_content(new, old, ("data",))
    return found + validate_secret(new)


def validate_namespace(namespace: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        namespace.get("metadata") or {}, namespaced=False, name_rule=names.name_is_dns_label
    )
    for finalizer in (namespace.get("spec") or {}).get("finalizers") or []:
        found += m.qualified_name(finalizer, "spec.finalizers") + m.kube_finalizer_name(
            finalizer, "spec.finalizers"
        )
    return found


def validate_namespace_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})


def validate_namespace_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = validate_namespace_update(new, old)
    phase = (new.get("status") or {}).get("phase") or ""
    if not (new.get("metadata") or {}).get("deletionTimestamp"):
        if phase != "Active":
            found.append(
                e.invalid("status.Phase", phase, "may only be 'Active' if `deletionTimestamp` is empty")
            )
    elif phase != "Terminating":
        found.append(
            e.invalid("status.Phase", phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")
        )
    return found


def validate_namespace_finalize(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = validate_namespace_update(new, old)
    for i, finalizer in enumerate((new.get("spec") or {}).get("finalizers") or []):
        where = f"spec.finalizers[{i}]"
        found += m.qualified_name(finalizer, where) + m.kube_finalizer_name(finalizer, where)
    return found


def validate_service_account(account: Mapping[str, Any]) -> list[Cause]:
    return m.object_meta(
        account.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain
    )


def validate_service_account_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
