"""This node's side of the local-path provisioner (kubelite.controllers.localpath).

The provisioner puts a claim's directory under the node's storage dir, `<data-dir>/agent/storage`, which
only the node knows: the agent publishes it as the Node annotation kubelite.io/storage-dir. The directory
itself is made on first mount (the PV is a hostPath of type DirectoryOrCreate). Once the PV's claim is gone
(the binder marks the PV Released; without a binder, the claim's absence is checked directly) and its
reclaim policy is Delete, the directory is removed here, on the node that holds it, and then the PV object.
Only PVs of the provisioner whose path lies under this node's storage dir are touched.

    await LocalPathCleaner(client, informers, paths).run()
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kubelite.agent.paths import NodePaths
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient

log = logging.getLogger(__name__)

NODES = paths.resource("", "v1", "nodes")
PVS = paths.resource("", "v1", "persistentvolumes")
PVCS = paths.resource("", "v1", "persistentvolumeclaims")
PROVISIONER = "rancher.io/local-path"  # kubelite.controllers.localpath.PROVISIONER (agents cannot import it)
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
STORAGE_DIR = "kubelite.io/storage-dir"


def _remove_tree(path: Path) -> bool:
    """Remove `path` and all below it; False if it was not there (already removed by an earlier pass)."""
    if not path.exists():
        return False
    shutil.rmtree(path, ignore_errors=True)
    return True


def storage_dir(node_paths: NodePaths) -> Path:
    return node_paths.root / "storage"


class LocalPathCleaner:
    def __init__(self, client: RestClient, informers: InformerFactory, node_paths: NodePaths) -> None:
        self.client = client
        self.node_name = node_paths.node_name
        self.storage = storage_dir(node_paths)
        self.volumes = informers.informer(PVS)
        self.claims = informers.informer(PVCS)
        self.controller = Controller("local-path cleaner", self.reconcile)
        self.controller.watch(self.volumes)
        self.controller.watch(self.claims, keys=self._volumes_of_claim)

    def _volumes_of_claim(self, claim: Snapshot) -> Iterable[str]:
        uid = (claim.get("metadata") or {}).get("uid")
        for pv in self.volumes.cache.list():
            if ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") == uid:
                yield str(pv["metadata"]["name"])

    async def run(self) -> None:
        await asyncio.to_thread(self.storage.mkdir, parents=True, exist_ok=True)
        patch = {"metadata": {"annotations": {STORAGE_DIR: str(self.storage)}}}
        await self.client.patch(NODES, self.node_name, patch)
        await self.controller.run()

    def directory_of(self, pv: Mapping[str, Any]) -> Path | None:
        """The PV's directory if it is one of ours on this node."""
        if ((pv.get("metadata") or {}).get("annotations") or {}).get(PROVISIONED_BY) != PROVISIONER:
            return None
        path = Path(str(((pv.get("spec") or {}).get("hostPath") or {}).get("path") or "/"))
        return path if path.parent == self.storage else None

    async def released(self, pv: Mapping[str, Any]) -> bool:
        if (pv.get("status") or {}).get("phase") == "Released":
            return True
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if not ref.get("uid"):
            return False
        cached = self.claims.cache.get_by_name(str(ref.get("name")), namespace=str(ref.get("namespace")))
        if cached is not None and (cached.get("metadata") or {}).get("uid") == ref["uid"]:
            return False
        try:  # the cache may lag behind the PV's: ask the server before deleting data
            claim = await self.client.get(PVCS, str(ref["name"]), namespace=str(ref["namespace"]))
        except errors.NotFound:
            return True
        return bool((claim.get("metadata") or {}).get("uid") != ref["uid"])

    async def reconcile(self, key: str) -> None:
        pv = self.volumes.cache.get_by_name(key)
        if pv is None or (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") != "Delete":
            return
        directory = self.directory_of(pv)
        if directory is None or not await self.released(pv):
            return
        if await asyncio.to_thread(_remove_tree, directory):
            log.info("local-path: removed %s of released volume %s", directory, key)
        try:
            await self.client.delete(PVS, key)
        except errors.NotFound:
            pass
