"""Every namespace gets the ConfigMap `kube-root-ca.crt` holding the cluster CA, kept as the CA is.

Pods verify the API server with it: the ServiceAccount admission plugin projects its `ca.crt` into every pod
that mounts API credentials. Upstream's root-ca-cert-publisher does the same; the CA is the one the
controller manager itself trusts (its kubeconfig's certificate authority).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubelite.client import errors, kubeconfig, paths
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller
from kubelite.client.frozen import thaw
from kubelite.controllers.context import ControllerContext

NAMESPACES = paths.resource("", "v1", "namespaces")
CONFIGMAPS = paths.resource("", "v1", "configmaps")
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
# Upstream's wording, so tools that read the annotation see what they expect.
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such "
    "as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions "
    "of Kubernetes clusters."
)
_DESCRIPTION_KEY = "kubernetes.io/description"


def _namespace_of_root_ca(configmap: Snapshot) -> Iterable[str]:
    meta = configmap.get("metadata") or {}
    return (
        (str(meta["namespace"]),) if meta.get("name") == ROOT_CA_CONFIGMAP and meta.get("namespace") else ()
    )


class RootCACertPublisher:
    def __init__(self, ctx: ControllerContext, *, ca_pem: str) -> None:
        self.client = ctx.client
        self.ca_pem = ca_pem
        self.namespaces = ctx.informers.informer(NAMESPACES)
        self.configmaps = ctx.informers.informer(CONFIGMAPS)
        self.controller = Controller("root-ca-cert-publisher", self.reconcile)
        self.controller.watch(self.namespaces)
        self.controller.watch(self.configmaps, keys=_namespace_of_root_ca)

    async def run(self) -> None:
        await self.controller.run()

    async def reconcile(self, key: str) -> None:
        """`key` is a namespace name."""
        namespace = self.namespaces.cache.get(key)
        if namespace is None or (namespace.get("metadata") or {}).get("deletionTimestamp"):
            return
        if (namespace.get("status") or {}).get("phase") == "Terminating":
            return  # nothing can be created there any more
        current = self.configmaps.cache.get_by_name(ROOT_CA_CONFIGMAP, namespace=key)
        if current is None:
            await self._create(key)
            return
        annotations = (current.get("metadata") or {}).get("annotations") or {}
        if (current.get("data") or {}) == {"ca.crt": self.ca_pem} and annotations.get(
            _DESCRIPTION_KEY
        ) == DESCRIPTION:
            return
        updated: dict[str, Any] = thaw(current)
        updated["data"] = {"ca.crt": self.ca_pem}
        updated["metadata"].setdefault("annotations", {})[_DESCRIPTION_KEY] = DESCRIPTION
        try:
            await self.client.update(CONFIGMAPS, updated)
        except (errors.Conflict, errors.NotFound):
            pass  # our cache is behind; the watch brings the change and another reconcile

    async def _create(self, namespace: str) -> None:
        configmap = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": ROOT_CA_CONFIGMAP,
                "namespace": namespace,
                "annotations": {_DESCRIPTION_KEY: DESCRIPTION},
            },
            "data": {"ca.crt": self.ca_pem},
        }
        try:
            await self.client.create(CONFIGMAPS, configmap)
        except errors.AlreadyExists:
            pass  # our cache is behind; the watch will catch up


def new_controller(ctx: ControllerContext) -> RootCACertPublisher:
    ca_data = kubeconfig.load(ctx.config.kubeconfig).ca_data
    if not ca_data:
        raise kubeconfig.KubeConfigError(f"{ctx.config.kubeconfig} names no certificate authority to publish")
    return RootCACertPublisher(ctx, ca_pem=ca_data.decode())
