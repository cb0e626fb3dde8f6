"""The local-path provisioner (k3s's rancher/local-path-provisioner, in-process): the default StorageClass
`local-path` and a directory on the chosen node for every claim of it.

The class is WaitForFirstConsumer: the scheduler picks the node for the claim's first pod and writes it to
the claim (annotation volume.kubernetes.io/selected-node); then this controller creates the PV `pvc-<uid>`:
a hostPath directory `<storage dir>/pvc-<uid>_<ns>_<name>` (type DirectoryOrCreate, so the node's agent
makes it on first mount), node affinity to that node, capacity = the request, claimRef pre-bound to the
claim's uid. The storage dir is the node's own (`<data-dir>/agent/storage`), which only the node knows: its
agent publishes it as the Node annotation kubelite.io/storage-dir. Deleting the directory of a released PV
must happen on that node, so the agent does it (kubelite.agent.volumes.localpath), then deletes the PV.

The provisioner name is k3s's, `rancher.io/local-path`: manifests written for k3s that name it keep working.
Binding the claim to the pre-bound PV (volumeName, phase Bound) is the PV binder's work
(kubelite.controllers.persistentvolume), as upstream.
Expansion: a bound claim of a class with allowVolumeExpansion that asks for more gets it at once (a
directory has no size to grow): the PV's capacity, then the claim's status.capacity.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.api.quantity import parse
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller, RequeueAfter
from kubelite.client.events import WARNING
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.statuspatch import write_status

log = logging.getLogger(__name__)

PVCS = paths.resource("", "v1", "persistentvolumeclaims")
PVS = paths.resource("", "v1", "persistentvolumes")
NODES = paths.resource("", "v1", "nodes")
CLASSES = paths.resource("storage.k8s.io", "v1", "storageclasses")

CLASS_NAME = "local-path"
PROVISIONER = "rancher.io/local-path"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
STORAGE_DIR = "kubelite.io/storage-dir"
NODE_RETRY = 2.0  # seconds between looks for a node that has not published its storage dir yet


def storage_class() -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": CLASS_NAME, "annotations": {DEFAULT_CLASS: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def pv_name(claim: Mapping[str, Any]) -> str:
    return f"pvc-{claim['metadata']['uid']}"


def requested(claim: Mapping[str, Any]) -> str:
    return str((((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage", "0"))


def persistent_volume(
    claim: Mapping[str, Any], storage_class: Mapping[str, Any], node: str, storage_dir: str
) -> dict[str, Any]:
    meta, spec = claim["metadata"], claim.get("spec") or {}
    directory = f"{storage_dir.rstrip('/')}/{pv_name(claim)}_{meta['namespace']}_{meta['name']}"
    hostname = {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": pv_name(claim), "annotations": {PROVISIONED_BY: PROVISIONER}},
        "spec": {
            "capacity": {"storage": requested(claim)},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "hostPath": {"path": directory, "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [hostname]}]}},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
                "resourceVersion": meta.get("resourceVersion"),
            },
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
            "storageClassName": storage_class["metadata"]["name"],
            "volumeMode": spec.get("volumeMode") or "Filesystem",
        },
    }


def claim_keys_of_volume(pv: Snapshot) -> Iterable[str]:
    ref = (pv.get("spec") or {}).get("claimRef") or {}
    return [f"{ref['namespace']}/{ref['name']}"] if ref.get("name") else []


class LocalPathProvisioner:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.recorder = ctx.recorder(PROVISIONER)
        self.claims = ctx.informers.informer(PVCS)
        self.volumes = ctx.informers.informer(PVS)
        self.classes = ctx.informers.informer(CLASSES)
        self.nodes = ctx.informers.informer(NODES)
        self.controller = Controller("local-path-provisioner", self.reconcile, workers=2)
        self.controller.watch(self.claims)
        self.controller.watch(self.volumes, keys=claim_keys_of_volume)

    async def run(self) -> None:
        await self.ensure_class()
        await self.controller.run()

    async def ensure_class(self) -> None:
        """Create the default class if it is missing; a class an administrator changed is left alone."""
        try:
            await self.client.create(CLASSES, storage_class())
            log.info("created the default StorageClass %s", CLASS_NAME)
        except errors.AlreadyExists:
            pass

    async def reconcile(self, key: str) -> None:
        claim = self.claims.cache.get(key)
        if claim is None or (claim.get("metadata") or {}).get("deletionTimestamp"):
            return
        spec = claim.get("spec") or {}
        storage_class = self.classes.cache.get_by_name(str(spec.get("storageClassName") or ""))
        if storage_class is None or storage_class.get("provisioner") != PROVISIONER:
            return
        pv = self.volumes.cache.get_by_name(pv_name(claim))
        if pv is None and not spec.get("volumeName"):
            await self.provision(claim, storage_class)
        elif pv is not None and spec.get("volumeName") == pv_name(claim):
            if storage_class.get("allowVolumeExpansion"):
                await self.expand(claim, pv)

    async def provision(self, claim: Mapping[str, Any], storage_class: Mapping[str, Any]) -> None:
        node_name = ((claim.get("metadata") or {}).get("annotations") or {}).get(SELECTED_NODE)
        if not node_name:
            return  # waiting for the first consumer to be scheduled
        node = self.nodes.cache.get_by_name(node_name)
        storage_dir = (((node or {}).get("metadata") or {}).get("annotations") or {}).get(STORAGE_DIR)
        if not storage_dir:
            message = f"node {node_name} has not published its storage directory ({STORAGE_DIR})"
            self.recorder.record(claim, reason="ProvisioningFailed", message=message, event_type=WARNING)
            raise RequeueAfter(NODE_RETRY)
        wanted = persistent_volume(claim, storage_class, node_name, storage_dir)
        try:
            pv = await self.client.create(PVS, wanted)
        except errors.AlreadyExists:
            pv = await self.client.get(PVS, wanted["metadata"]["name"])
        message = f"Successfully provisioned volume {pv['metadata']['name']}"
        self.recorder.record(claim, reason="ProvisioningSucceeded", message=message)

    async def expand(self, claim: Mapping[str, Any], pv: Mapping[str, Any]) -> None:
        status = claim.get("status") or {}
        if status.get("phase") != "Bound":
            return
        wanted = requested(claim)
        capacity = str(((pv.get("spec") or {}).get("capacity") or {}).get("storage", "0"))
        if parse(wanted).value > parse(capacity).value:
            patch = {"spec": {"capacity": {"storage": wanted}}}
            pv = await self.client.patch(PVS, pv["metadata"]["name"], patch)
            capacity = wanted
        current = str((status.get("capacity") or {}).get("storage", "0"))
        if parse(capacity).value > parse(current).value:
            await write_status(self.client, PVCS, claim, {**status, "capacity": {"storage": capacity}})
            message = f"Volume {pv['metadata']['name']} is now {capacity}"
            self.recorder.record(claim, reason="FileSystemResizeSuccessful", message=message)


def new_controller(ctx: ControllerContext) -> LocalPathProvisioner:
    return LocalPathProvisioner(ctx)
