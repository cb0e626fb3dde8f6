"""persistentVolumeClaim and generic ephemeral volumes: from the claim to the PV's path on this node.

Only PVs with a node-local path can be mounted here (hostPath, local). The checks and messages are the
kubelet's volume manager's (`error processing PVC default/data: PVC is not bound`).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

from kubelite.agent.volumes import hostpath
from kubelite.agent.volumes.types import VolumeError
from kubelite.client import errors, paths
from kubelite.client.rest import RestClient

JSON = dict[str, Any]

PVCS = paths.resource("", "v1", "persistentvolumeclaims")
PVS = paths.resource("", "v1", "persistentvolumes")


@dataclass(frozen=True)
class ClaimedPath:
    path: str
    read_only: bool


def claim_name(pod: JSON, volume: JSON) -> str:
    if "ephemeral" in volume:
        return f"{pod['metadata']['name']}-{volume['name']}"
    return str(volume["persistentVolumeClaim"].get("claimName", ""))


async def resolve(client: RestClient, pod: JSON, volume: JSON) -> ClaimedPath:
    """The node path the claim of `volume` is bound to (created per its hostPath type); raises VolumeError."""
    namespace = str(pod["metadata"]["namespace"])
    name = claim_name(pod, volume)
    prefix = f"error processing PVC {namespace}/{name}: "
    try:
        claim = await client.get(PVCS, name, namespace=namespace)
    except errors.ClientError as exc:
        raise VolumeError(f"{prefix}failed to fetch PVC from API server: {exc}") from exc
    meta = claim.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        raise VolumeError(f"{prefix}PVC is being deleted")
    if (claim.get("status") or {}).get("phase") != "Bound":
        raise VolumeError(f"{prefix}PVC is not bound")
    pv_name = str((claim.get("spec") or {}).get("volumeName") or "")
    if not pv_name:
        raise VolumeError(f"{prefix}PVC has empty pvc.Spec.VolumeName")
    if "ephemeral" in volume and not any(
        ref.get("uid") == pod["metadata"].get("uid") and ref.get("controller")
        for ref in meta.get("ownerReferences") or []
    ):
        pod_name = pod["metadata"]["name"]
        raise VolumeError(
            f"PVC {namespace}/{name} was not created for pod {namespace}/{pod_name} (pod is not owner)"
        )
    try:
        pv = await client.get(PVS, pv_name)
    except errors.ClientError as exc:
        raise VolumeError(f"{prefix}failed to fetch PV {pv_name} from API server: {exc}") from exc
    claim_ref = (pv.get("spec") or {}).get("claimRef")
    if not claim_ref:
        raise VolumeError(
            f"{prefix}found PV object {pv_name} but it has a nil pv.Spec.ClaimRef indicating it is not yet "
            "bound to the claim"
        )
    if claim_ref.get("uid") != meta.get("uid"):
        raise VolumeError(
            f"{prefix}found PV object {pv_name} but its pv.Spec.ClaimRef.UID {claim_ref.get('uid')} "
            f"does not point to claim.UID {meta.get('uid')}"
        )
    read_only = bool((volume.get("persistentVolumeClaim") or {}).get("readOnly"))
    return await _pv_path(pv, read_only)


async def _pv_path(pv: JSON, read_only: bool) -> ClaimedPath:
    spec = pv.get("spec") or {}
    name = (pv.get("metadata") or {}).get("name")
    if host := spec.get("hostPath"):
        try:
            await asyncio.to_thread(hostpath.check, str(host["path"]), host.get("type"))
        except (hostpath.HostPathError, OSError) as exc:
            raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {exc}') from exc
        return ClaimedPath(str(host["path"]), read_only)
    if local := spec.get("local"):
        path = str(local.get("path", ""))
        if not await asyncio.to_thread(os.path.exists, path):
            raise VolumeError(
                f'MountVolume.NewMounter initialization failed for volume "{name}" : '
                f'path "{path}" does not exist'
            )
        return ClaimedPath(path, read_only)
    raise VolumeError(
        f'MountVolume.SetUp failed for volume "{name}" : this node mounts only hostPath and local volumes'
    )
