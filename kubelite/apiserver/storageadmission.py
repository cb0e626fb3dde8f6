"""Storage admission plugins: DefaultStorageClass and StorageObjectInUseProtection, as upstream.

DefaultStorageClass: a claim created without spec.storageClassName (absent, not "": "" asks for no class)
gets the default StorageClass's name, the class annotated storageclass.kubernetes.io/is-default-class
"true" (or the beta annotation); with several defaults the newest wins, as upstream since 1.26.
StorageObjectInUseProtection: every new claim and volume gets its protection finalizer, which the
pvc-protection and pv-protection controllers remove once deleting it is safe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.apiserver.chain import AdmissionRequest
from kubelite.apiserver.context import ServerContext

# Every StorageClass in the store.
StorageClassLister = Callable[[], Awaitable[list[dict[str, Any]]]]

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_DEFAULT_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
_FINALIZERS = {"persistentvolumeclaims": PVC_PROTECTION, "persistentvolumes": PV_PROTECTION}


def _creates(request: AdmissionRequest, plural: str) -> bool:
    info = request.info
    return (
        request.operation == "CREATE"
        and info.group == ""
        and info.resource == plural
        and not info.subresource
        and request.obj is not None
    )


def default_class(classes: list[dict[str, Any]]) -> dict[str, Any] | None:
    defaults = [
        sc
        for sc in classes
        if any(
            ((sc.get("metadata") or {}).get("annotations") or {}).get(k) == "true"
            for k in _DEFAULT_ANNOTATIONS
        )
    ]
    if not defaults:
        return None
    return max(
        defaults,
        key=lambda sc: (str(sc["metadata"].get("creationTimestamp") or ""), str(sc["metadata"].get("name"))),
    )


class DefaultStorageClass:
    def __init__(self, list_classes: StorageClassLister) -> None:
        self._list = list_classes

    async def admit(self, request: AdmissionRequest) -> None:
        if not _creates(request, "persistentvolumeclaims"):
            return
        claim = request.obj
        assert claim is not None
        spec = claim.setdefault("spec", {})
        annotations = (claim.get("metadata") or {}).get("annotations") or {}
        if spec.get("storageClassName") is not None or BETA_CLASS_ANNOTATION in annotations:
            return
        found = default_class(await self._list())
        if found is not None:
            spec["storageClassName"] = found["metadata"]["name"]


class StorageObjectInUseProtection:
    async def admit(self, request: AdmissionRequest) -> None:
        for plural, finalizer in _FINALIZERS.items():
            if _creates(request, plural):
                assert request.obj is not None
                finalizers = request.obj.setdefault("metadata", {}).setdefault("finalizers", [])
                if finalizer not in finalizers:
                    finalizers.append(finalizer)


def store_lister(ctx: ServerContext) -> StorageClassLister:
    """Lists StorageClasses straight from the store: they are few, and claims are created rarely."""

    async def list_classes() -> list[dict[str, Any]]:
        registry = ctx.registry("storage.k8s.io", "v1", "storageclasses")
        if registry is None:
            return []
        found = await registry.store.list(registry.resource.list_prefix(""))
        return [registry.decode(kv) for kv in found.items]

    return list_classes
