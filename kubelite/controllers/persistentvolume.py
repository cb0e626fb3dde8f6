"""The PersistentVolume binder: claims meet volumes, and volumes whose claim is gone are reclaimed.

As upstream's persistentvolume controller (pv_controller.go syncClaim/syncVolume), level-triggered on two
kinds of keys, `pvc:<ns>/<name>` and `pv:<name>`. Binding writes the volume first (spec.claimRef with the
claim's uid, as a PUT carrying the cached resourceVersion): when two claims race for one volume, or two
binders run at once, the store lets exactly one such write through and the loser retries against the newer
volume. Only then are the volume's phase, the claim's spec.volumeName and annotations, and the claim's status
written, each of which a retry repeats harmlessly.

A claim with no matching volume stays Pending, with an event saying why: its class binds on first consumer
(the scheduler and the provisioner take it from there), its class has a provisioner (the claim is annotated
with volume.kubernetes.io/storage-provisioner, which the provisioner watches for), or nothing fits.

When a bound claim is gone the volume becomes Released and its reclaim policy applies: Retain keeps it (and
its claimRef) for an administrator; Delete leaves a provisioned volume (annotation
pv.kubernetes.io/provisioned-by) to its provisioner, which removes the data and then the PV object, and
fails any other, since no in-tree plugin can delete it; Recycle is deprecated and fails as well.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.controller import Controller
from kubelite.client.events import NORMAL, WARNING, timestamp
from kubelite.client.frozen import thaw
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.persistentvolume_match import best_match, is_bound_to, mismatch, storage_class
from kubelite.controllers.statuspatch import write_status

log = logging.getLogger(__name__)

VOLUMES = paths.resource("", "v1", "persistentvolumes")
CLAIMS = paths.resource("", "v1", "persistentvolumeclaims")
CLASSES = paths.resource("storage.k8s.io", "v1", "storageclasses")

BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
NO_CLASS_MESSAGE = "no persistent volumes available for this claim and no storage class is set"
WAIT_MESSAGE = "waiting for first consumer to be created before binding"


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _phase(obj: Mapping[str, Any]) -> str:
    return str((obj.get("status") or {}).get("phase") or "")


def claim_ref(claim: Mapping[str, Any]) -> dict[str, Any]:
    meta = _meta(claim)
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "apiVersion": "v1",
        "resourceVersion": meta.get("resourceVersion"),
    }


class PersistentVolumeController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.recorder = ctx.recorder("persistentvolume-controller")
        self.volumes = ctx.informers.informer(VOLUMES)
        self.claims = ctx.informers.informer(CLAIMS)
        self.classes = ctx.informers.informer(CLASSES)
        self.controller = Controller("persistentvolume-binder", self.reconcile, workers=1)
        self.controller.watch(self.volumes, keys=self.volume_keys)
        self.controller.watch(self.claims, keys=self.claim_keys)
        self.controller.watch(self.classes, keys=lambda _: self.pending_claims())
        self.reported: dict[str, str] = {}  # claim key -> last Pending reason, so events are not repeated

    async def run(self) -> None:
        await self.controller.run()

    # --- keys -----------------------------------------------------------------------------------------
    def volume_keys(self, volume: Mapping[str, Any]) -> Iterable[str]:
        yield f"pv:{_meta(volume).get('name')}"
        ref = (volume.get("spec") or {}).get("claimRef")
        if ref:
            yield f"pvc:{ref.get('namespace')}/{ref.get('name')}"
        if _phase(volume) in ("", "Pending", "Available"):
            yield from self.pending_claims()  # a volume became available: every waiting claim may want it

    def claim_keys(self, claim: Mapping[str, Any]) -> Iterable[str]:
        meta = _meta(claim)
        yield f"pvc:{meta.get('namespace')}/{meta.get('name')}"
        volume = (claim.get("spec") or {}).get("volumeName")
        if volume:
            yield f"pv:{volume}"

    def pending_claims(self) -> list[str]:
        return [
            f"pvc:{_meta(c).get('namespace')}/{_meta(c).get('name')}"
            for c in self.claims.cache.list()
            if not (c.get("spec") or {}).get("volumeName")
        ]

    async def reconcile(self, key: str) -> None:
        kind, _, rest = key.partition(":")
        if kind == "pv":
            await self.sync_volume(rest)
        else:
            await self.sync_claim(rest)

    # --- claims ---------------------------------------------------------------------------------------
    async def sync_claim(self, key: str) -> None:
        claim = self.claims.cache.get(key)
        if claim is None:
            self.reported.pop(key, None)
            return
        name = (claim.get("spec") or {}).get("volumeName")
        if not name:
            if not _meta(claim).get("deletionTimestamp"):
                await self.sync_unbound_claim(key, claim)
            return
        volume = self.volumes.cache.get(name)
        if volume is None:
            if (_meta(claim).get("annotations") or {}).get(BIND_COMPLETED):
                await self.claim_status(claim, None, phase="Lost")
                self.report(
                    key,
                    claim,
                    "ClaimLost",
                    "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                )
            else:
                await self.claim_status(claim, None, phase="Pending")
            return
        ref = (volume.get("spec") or {}).get("claimRef")
        if not ref:
            problem = mismatch(volume, claim)
            if problem:
                self.report(
                    key, claim, "VolumeMismatch", f'Cannot bind to requested volume "{name}": {problem}'
                )
                await self.claim_status(claim, None, phase="Pending")
                return
            await self.bind(volume, claim)
        elif is_bound_to(volume, claim):
            await self.bind(volume, claim)
        elif (_meta(claim).get("annotations") or {}).get(BIND_COMPLETED):
            await self.claim_status(claim, None, phase="Lost")
            self.report(
                key,
                claim,
                "ClaimMisbound",
                "Two claims are bound to the same volume, this one is bound incorrectly",
            )
        else:
            self.report(key, claim, "FailedBinding", f'volume "{name}" already bound to a different claim.')
            await self.claim_status(claim, None, phase="Pending")

    async def sync_unbound_claim(self, key: str, claim: Mapping[str, Any]) -> None:
        class_name = storage_class(claim)
        sc = self.classes.cache.get(class_name) if class_name else None
        delay = sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
        volume = best_match(claim, self.volumes.cache.list(), delay_binding=delay)
        if volume is not None:
            await self.bind(volume, claim)
            return
        if delay and not (_meta(claim).get("annotations") or {}).get(SELECTED_NODE):
            self.report(key, claim, "WaitForFirstConsumer", WAIT_MESSAGE, warning=False)
        elif not class_name:
            self.report(key, claim, "FailedBinding", NO_CLASS_MESSAGE, warning=False)
        elif sc is None:
            self.report(
                key, claim, "ProvisioningFailed", f'storageclass.storage.k8s.io "{class_name}" not found'
            )
        elif sc.get("provisioner") == NO_PROVISIONER:
            self.report(key, claim, "ProvisioningFailed", f"no volume plugin matched name: {NO_PROVISIONER}")
        else:
            await self.hand_to_provisioner(key, claim, str(sc.get("provisioner")))

    async def hand_to_provisioner(self, key: str, claim: Mapping[str, Any], provisioner: str) -> None:
        annotations = _meta(claim).get("annotations") or {}
        if annotations.get(STORAGE_PROVISIONER) != provisioner:
            patch = {
                "metadata": {
                    "annotations": {STORAGE_PROVISIONER: provisioner, BETA_STORAGE_PROVISIONER: provisioner}
                }
            }
            await self.client.patch(
                CLAIMS, _meta(claim)["name"], patch, namespace=_meta(claim).get("namespace")
            )
        message = (
            f"Waiting for a volume to be created either by the external provisioner '{provisioner}' "
            "or manually by the system administrator. If volume creation is delayed, please verify that "
            "the provisioner is running and correctly registered."
        )
        self.report(key, claim, "ExternalProvisioning", message, warning=False)

    def report(
        self, key: str, claim: Mapping[str, Any], reason: str, message: str, *, warning: bool = True
    ) -> None:
        if self.reported.get(key) == reason + message:
            return
        self.reported[key] = reason + message
        self.recorder.record(claim, reason=reason, message=message, event_type=WARNING if warning else NORMAL)

    async def bind(self, volume: Mapping[str, Any], claim: Mapping[str, Any]) -> None:
        """Volume first (the arbiter of races), then the volume's phase, the claim, the claim's status."""
        meta = _meta(claim)
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        ref = (volume.get("spec") or {}).get("claimRef") or {}
        if ref.get("uid") != meta.get("uid"):
            updated = thaw(volume)
            updated["spec"]["claimRef"] = claim_ref(claim)
            if not ref:
                updated["metadata"].setdefault("annotations", {})[BOUND_BY_CONTROLLER] = "yes"
            volume = await self.client.update(VOLUMES, updated)
        volume = await self.volume_phase(volume, "Bound")
        name = _meta(volume)["name"]
        annotations = meta.get("annotations") or {}
        if (claim.get("spec") or {}).get("volumeName") != name or not annotations.get(BIND_COMPLETED):
            updated = thaw(claim)
            notes = updated["metadata"].setdefault("annotations", {})
            notes[BIND_COMPLETED] = "yes"
            if not (claim.get("spec") or {}).get("volumeName"):
                notes[BOUND_BY_CONTROLLER] = "yes"
            updated["spec"]["volumeName"] = name
            claim = await self.client.update(CLAIMS, updated)
        if await self.claim_status(claim, volume, phase="Bound"):
            self.reported.pop(key, None)
            log.info("persistentvolume: bound %s to %s", key, name)

    async def claim_status(
        self, claim: Mapping[str, Any], volume: Mapping[str, Any] | None, *, phase: str
    ) -> bool:
        """Write the claim's phase (with the bound volume's capacity and access modes); True if it changed."""
        status = thaw(claim.get("status") or {})
        status["phase"] = phase
        if volume is not None:
            spec = volume.get("spec") or {}
            status["capacity"] = thaw(spec.get("capacity") or {})
            status["accessModes"] = thaw(spec.get("accessModes") or [])
        if status == (claim.get("status") or {}):
            return False
        await write_status(self.client, CLAIMS, claim, status)
        return True

    # --- volumes --------------------------------------------------------------------------------------
    async def sync_volume(self, name: str) -> None:
        volume = self.volumes.cache.get(name)
        if volume is None:
            return
        ref = (volume.get("spec") or {}).get("claimRef")
        if not ref or not ref.get("uid"):
            # Unbound, or pre-bound to a claim that does not know yet: the claim's sync does the binding.
            await self.volume_phase(volume, "Available")
            return
        claim = await self.find_claim(ref)
        if claim is None or _meta(claim).get("uid") != ref.get("uid"):
            await self.reclaim(volume)
            return
        wanted = (claim.get("spec") or {}).get("volumeName")
        if not wanted or wanted == name:
            await self.volume_phase(volume, "Bound")
            return
        # The claim is bound to another volume: undo this half-finished binding.
        updated = thaw(volume)
        if (_meta(volume).get("annotations") or {}).get(BOUND_BY_CONTROLLER):
            updated["spec"].pop("claimRef", None)
            updated["metadata"]["annotations"].pop(BOUND_BY_CONTROLLER, None)
        else:
            updated["spec"]["claimRef"].pop("uid", None)  # pre-bound by the user: keep the claim's name
        volume = await self.client.update(VOLUMES, updated)
        await self.volume_phase(volume, "Available")

    async def find_claim(self, ref: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The claim from the cache, or (when the cache lacks it or has another incarnation) from the API
        server: a claim created a moment ago must not look deleted and have its volume released."""
        claim = self.claims.cache.get(f"{ref.get('namespace')}/{ref.get('name')}")
        if claim is not None and _meta(claim).get("uid") == ref.get("uid"):
            return claim
        try:
            return await self.client.get(CLAIMS, str(ref.get("name")), namespace=str(ref.get("namespace")))
        except errors.NotFound:
            return None

    async def reclaim(self, volume: Mapping[str, Any]) -> None:
        phase = _phase(volume)
        if phase == "Failed":
            return
        if phase != "Released":
            volume = await self.volume_phase(volume, "Released")
        policy = (volume.get("spec") or {}).get("persistentVolumeReclaimPolicy") or "Retain"
        if policy == "Retain":
            return
        if policy == "Delete":
            if (_meta(volume).get("annotations") or {}).get(PROVISIONED_BY):
                return  # the provisioner removes the data, then the PV
            name = _meta(volume).get("name")
            message = (
                f'error getting deleter volume plugin for volume "{name}": no deletable volume plugin matched'
            )
            self.recorder.record(volume, reason="VolumeFailedDelete", message=message, event_type=WARNING)
        else:
            message = "No recycler plugin found for the volume!"
            self.recorder.record(volume, reason="VolumeFailedRecycle", message=message, event_type=WARNING)
        await self.volume_phase(volume, "Failed", message)

    async def volume_phase(
        self, volume: Mapping[str, Any], phase: str, message: str | None = None
    ) -> Mapping[str, Any]:
        status = thaw(volume.get("status") or {})
        if status.get("phase") == phase and status.get("message") == message:
            return volume
        if status.get("phase") != phase:
            status["lastPhaseTransitionTime"] = timestamp(datetime.datetime.now(datetime.UTC))
        status["phase"] = phase
        status.pop("message", None)
        if message:
            status["message"] = message
        return await write_status(self.client, VOLUMES, volume, status)


def new_controller(ctx: ControllerContext) -> PersistentVolumeController:
    return PersistentVolumeController(ctx)
