"""Which resource a call is about, and the URL path it lives at.

Resources are named by (group, version, plural), by apiVersion + kind, or by an object's own apiVersion and
kind, all resolved against kubelite's resource table (kubelite.api.resources). A resource the table lacks can
still be addressed by building a `Resource` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from kubelite.api import resources
from kubelite.api.resources import Resource


def resource(group: str, version: str, plural: str) -> Resource:
    found = resources.find(group, version, plural)
    if found is None:
        raise LookupError(f"no resource {plural!r} in {group or 'core'}/{version}")
    return found


def split_api_version(api_version: str) -> tuple[str, str]:
    """("apps", "v1") for "apps/v1"; ("", "v1") for "v1"."""
    group, _, version = api_version.rpartition("/")
    return group, version


def kind(api_version: str, kind_name: str) -> Resource:
    group, version = split_api_version(api_version)
    found = resources.for_kind(group, version, kind_name)
    if found is None:
        raise LookupError(f"no resource of kind {kind_name!r} in {api_version}")
    return found


def for_object(obj: Mapping[str, Any]) -> Resource:
    """The resource an object belongs to, from its apiVersion and kind."""
    return kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))


def path(
    res: Resource, *, namespace: str | None = None, name: str | None = None, subresource: str | None = None
) -> str:
    """`/api/v1/namespaces/ns/pods/name/status`-style path. Without a namespace a namespaced resource's
    collection spans all namespaces; naming one object of it requires the namespace."""
    parts = ["", res.group_version_path]
    if res.namespaced and namespace:
        parts += ["namespaces", quote(namespace, safe="")]
    elif res.namespaced and name is not None:
        raise ValueError(f"{res.plural} are namespaced: a namespace is needed to address {name!r}")
    parts.append(res.plural)
    if name is not None:
        if not name:
            raise ValueError(f"an empty name cannot address one of {res.plural}")
        parts.append(quote(name, safe=""))
    if subresource:
        if name is None:
            raise ValueError("a subresource belongs to a named object")
        parts.append(subresource)
    return "/".join(parts)
