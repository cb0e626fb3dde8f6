"""What a resource request asks for, read from its method, path and query.

`/api/v1/namespaces/ns/pods/p/status` → group "", version v1, namespace ns, resource pods, name p,
subresource status, and the verb (get, list, watch, create, update, patch, delete, deletecollection).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Subresources of a namespace itself: /api/v1/namespaces/<name>/status is the namespace's status, not a
# resource named "status" inside the namespace.
_NAMESPACE_SUBRESOURCES = {"status", "finalize"}
_READ_VERBS = {"GET": "get", "HEAD": "get"}


@dataclass(frozen=True, slots=True)
class RequestInfo:
    group: str
    version: str
    namespace: str
    resource: str
    name: str
    subresource: str
    verb: str

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


def parse(method: str, path: str, query: Mapping[str, str]) -> RequestInfo | None:
    """None when the path is not a resource path (discovery, /version, unknown prefixes)."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    legacy_watch = rest[0] == "watch"  # the deprecated /api/v1/watch/... prefix
    if legacy_watch:
        rest = rest[1:]
    namespace = ""
    if len(rest) >= 2 and rest[0] == "namespaces":
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
        else:
            # The namespace object itself (or its status/finalize): it is not inside a namespace.
            namespace = ""
    # Only proxy subresources take a path after them (nodes/n1/proxy/metrics).
    if not rest or (len(rest) > 3 and rest[2] != "proxy"):
        return None
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    method = method.upper()
    if legacy_watch or (method == "GET" and not name and _truthy(query.get("watch"))):
        verb = "watch"
    elif method in _READ_VERBS:
        verb = "get" if name else "list"
    elif method == "POST":
        verb = "create"
    elif method == "PUT":
        verb = "update"
    elif method == "PATCH":
        verb = "patch"
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = method.lower()
    return RequestInfo(group, version, namespace, resource, name, subresource, verb)
