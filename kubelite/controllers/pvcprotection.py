"""Storage object in-use protection: the finalizers that keep claims and volumes alive while in use.

The StorageObjectInUseProtection admission puts kubernetes.io/pvc-protection on every claim and
kubernetes.io/pv-protection on every volume. These controllers take them off once deletion is safe, as
upstream's pvcprotection and pvprotection controllers: a deleted claim goes when no scheduled pod that has
not terminated refers to it (directly, or as the claim of a generic ephemeral volume); a deleted volume goes
once it is no longer Bound.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.api.resources import Resource
from kubelite.client import paths
from kubelite.client.controller import Controller
from kubelite.client.frozen import thaw
from kubelite.client.rest import RestClient
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.persistentvolume import CLAIMS, VOLUMES

log = logging.getLogger(__name__)

PODS = paths.resource("", "v1", "pods")
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


def claims_of(pod: Mapping[str, Any]) -> list[str]:
    """Names of the claims a pod's volumes use."""
    name = (pod.get("metadata") or {}).get("name")
    found = []
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        if volume.get("persistentVolumeClaim"):
            found.append(str(volume["persistentVolumeClaim"].get("claimName")))
        elif volume.get("ephemeral"):
            found.append(f"{name}-{volume.get('name')}")
    return found


def uses(pod: Mapping[str, Any], claim: str) -> bool:
    # An unscheduled pod never started; the kubelet refuses to start one whose claim is being deleted.
    if not (pod.get("spec") or {}).get("nodeName"):
        return False
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    return claim in claims_of(pod)


async def remove_finalizer(client: RestClient, res: Resource, obj: Mapping[str, Any], finalizer: str) -> None:
    updated = thaw(obj)
    updated["metadata"]["finalizers"] = [f for f in updated["metadata"]["finalizers"] if f != finalizer]
    await client.update(res, updated)


class PVCProtectionController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.claims = ctx.informers.informer(CLAIMS)
        self.pods = ctx.informers.informer(PODS)
        self.controller = Controller("pvc-protection", self.reconcile)
        self.controller.watch(self.claims)
        self.controller.watch(self.pods, keys=self.pod_claims)

    async def run(self) -> None:
        await self.controller.run()

    @staticmethod
    def pod_claims(pod: Mapping[str, Any]) -> Iterable[str]:
        namespace = (pod.get("metadata") or {}).get("namespace")
        return [f"{namespace}/{claim}" for claim in claims_of(pod)]

    async def reconcile(self, key: str) -> None:
        claim = self.claims.cache.get(key)
        if claim is None:
            return
        meta = claim.get("metadata") or {}
        if not meta.get("deletionTimestamp") or PVC_PROTECTION not in (meta.get("finalizers") or ()):
            return
        namespace, name = str(meta.get("namespace")), str(meta.get("name"))
        if any(uses(pod, name) for pod in self.pods.cache.list(namespace=namespace)):
            return
        # The cache may lag a pod created a moment ago: confirm with a live list before letting go.
        live = await self.client.list(PODS, namespace=namespace)
        if any(uses(pod, name) for pod in live.get("items") or ()):
            return
        await remove_finalizer(self.client, CLAIMS, claim, PVC_PROTECTION)
        log.info("pvc-protection: released %s", key)


class PVProtectionController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.volumes = ctx.informers.informer(VOLUMES)
        self.controller = Controller("pv-protection", self.reconcile)
        self.controller.watch(self.volumes)

    async def run(self) -> None:
        await self.controller.run()

    async def reconcile(self, key: str) -> None:
        volume = self.volumes.cache.get(key)
        if volume is None:
            return
        meta = volume.get("metadata") or {}
        if not meta.get("deletionTimestamp") or PV_PROTECTION not in (meta.get("finalizers") or ()):
            return
        if (volume.get("status") or {}).get("phase") == "Bound":
            return
        await remove_finalizer(self.client, VOLUMES, volume, PV_PROTECTION)
        log.info("pv-protection: released %s", key)


def new_pvc_protection(ctx: ControllerContext) -> PVCProtectionController:
    return PVCProtectionController(ctx)


def new_pv_protection(ctx: ControllerContext) -> PVProtectionController:
    return PVProtectionController(ctx)
