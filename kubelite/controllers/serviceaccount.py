"""Every namespace gets a `default` ServiceAccount, re-created if someone deletes it.

Pods that name no service account run as `default`, so its absence would make every such pod fail admission;
upstream's serviceaccounts-controller keeps it there and so does this.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.controller import Controller
from kubelite.controllers.context import ControllerContext

NAMESPACES = paths.resource("", "v1", "namespaces")
SERVICEACCOUNTS = paths.resource("", "v1", "serviceaccounts")
DEFAULT_ACCOUNT = "default"


def _namespace_of_default_account(account: Snapshot) -> Iterable[str]:
    meta = account.get("metadata") or {}
    return (str(meta["namespace"]),) if meta.get("name") == DEFAULT_ACCOUNT and meta.get("namespace") else ()


class ServiceAccountController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.namespaces = ctx.informers.informer(NAMESPACES)
        self.accounts = ctx.informers.informer(SERVICEACCOUNTS)
        self.controller = Controller("serviceaccount", self.reconcile)
        self.controller.watch(self.namespaces)
        self.controller.watch(self.accounts, keys=_namespace_of_default_account)

    async def run(self) -> None:
        await self.controller.run()

    async def reconcile(self, key: str) -> None:
        """`key` is a namespace name."""
        namespace = self.namespaces.cache.get(key)
        if namespace is None or (namespace.get("metadata") or {}).get("deletionTimestamp"):
            return  # nothing can be created in a terminating namespace
        if (namespace.get("status") or {}).get("phase") == "Terminating":
            return
        if self.accounts.cache.get_by_name(DEFAULT_ACCOUNT, namespace=key) is not None:
            return
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": DEFAULT_ACCOUNT, "namespace": key},
        }
        try:
            await self.client.create(SERVICEACCOUNTS, account)
        except errors.AlreadyExists:
            pass  # our cache is behind; the watch will catch up


def new_controller(ctx: ControllerContext) -> ServiceAccountController:
    return ServiceAccountController(ctx)
