"""Built-in admission plugins.

NamespaceLifecycle, as upstream: nothing is created in a namespace that does not exist (404) or is being
terminated (403), and the namespaces the system relies on can never be deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.apiserver import errors
from kubelite.apiserver.chain import AdmissionRequest
from kubelite.apiserver.errors import Cause
from kubelite.apiserver.strategies import IMMORTAL_NAMESPACES

# Reads a namespace object by name; None if it does not exist.
NamespaceLookup = Callable[[str], Awaitable[dict[str, Any] | None]]
_NAMESPACES = errors.Resource("", "namespaces", "Namespace")


class NamespaceLifecycle:
    def __init__(self, lookup: NamespaceLookup) -> None:
        self._lookup = lookup

    async def admit(self, request: AdmissionRequest) -> None:
        info = request.info
        if request.operation == "DELETE":
            if info.group == "" and info.resource == "namespaces" and request.name in IMMORTAL_NAMESPACES:
                raise errors.forbidden(_NAMESPACES, request.name, "this namespace may not be deleted")
            return
        if not request.namespace or (info.group == "" and info.resource == "namespaces"):
            return
        namespace = await self._lookup(request.namespace)
        if namespace is None:
            raise errors.not_found(_NAMESPACES, request.namespace)
        if request.operation != "CREATE":
            return
        if (namespace.get("status") or {}).get("phase") == "Terminating":
            ns = request.namespace
            why = f"unable to create new content in namespace {ns} because it is being terminated"
            cause = Cause(
                "NamespaceTerminating",
                f"namespace {request.namespace} is being terminated",
                "metadata.namespace",
            )
            raise errors.forbidden(request.res, request.name, why, causes=[cause])
