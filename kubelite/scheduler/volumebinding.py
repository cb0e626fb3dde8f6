"""Upstream's VolumeBinding plugin, simplified: what a pod's claims require of its node, and PreBind.

A claim bound to a PV with node affinity restricts the pod to those nodes. An unbound claim of an Immediate
class keeps the pod Pending until the binder binds it. An unbound claim of a WaitForFirstConsumer class is
the pod's to decide: any node will do (or the node already written on the claim), and once a node is
chosen, PreBind writes it to the claim as volume.kubernetes.io/selected-node, for the provisioner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.client import paths
from kubelite.client.informer import Informer
from kubelite.client.rest import RestClient
from kubelite.scheduler.cycle import VolumeConstraints

PVCS = paths.resource("", "v1", "persistentvolumeclaims")
PVS = paths.resource("", "v1", "persistentvolumes")
CLASSES = paths.resource("storage.k8s.io", "v1", "storageclasses")
SELECTED_NODE = "volume.kubernetes.io/selected-node"
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"


def _node_is(name: str) -> list[Mapping[str, Any]]:
    return [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [name]}]}]


class VolumeBinding:
    def __init__(self, claims: Informer, volumes: Informer, classes: Informer) -> None:
        self.claims, self.volumes, self.classes = claims, volumes, classes

    def constraints(self, pod: Mapping[str, Any]) -> VolumeConstraints:
        namespace = str((pod.get("metadata") or {}).get("namespace", ""))
        terms: list[Any] = []
        waiting: list[tuple[str, str]] = []
        for volume in (pod.get("spec") or {}).get("volumes") or ():
            claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim_name:
                continue
            claim = self.claims.cache.get_by_name(claim_name, namespace=namespace)
            if claim is None:
                return VolumeConstraints([], f'persistentvolumeclaim "{claim_name}" not found')
            spec = claim.get("spec") or {}
            volume_name = spec.get("volumeName")
            if volume_name:
                pv = self.volumes.cache.get_by_name(volume_name)
                required = ((pv or {}).get("spec") or {}).get("nodeAffinity", {}).get("required") or {}
                if required.get("nodeSelectorTerms"):
                    terms.append(required["nodeSelectorTerms"])
                continue
            storage_class = self.classes.cache.get_by_name(str(spec.get("storageClassName") or ""))
            if (storage_class or {}).get("volumeBindingMode") != "WaitForFirstConsumer":
                return VolumeConstraints([], UNBOUND_IMMEDIATE)
            selected = ((claim.get("metadata") or {}).get("annotations") or {}).get(SELECTED_NODE)
            if selected:
                terms.append(_node_is(selected))  # provisioning for that node is under way
            else:
                waiting.append((namespace, claim_name))
        return VolumeConstraints(terms, waiting_claims=tuple(waiting))

    async def pre_bind(self, client: RestClient, claims: Iterable[tuple[str, str]], node: str) -> None:
        """Write the chosen node to every claim that waited for it."""
        patch = {"metadata": {"annotations": {SELECTED_NODE: node}}}
        for namespace, name in claims:
            await client.patch(PVCS, name, patch, namespace=namespace)
