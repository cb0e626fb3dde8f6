"""Empties a terminating namespace, then releases it.

Deleting a namespace only marks it Terminating (the API server does that, and refuses new content in it).
This controller deletes everything inside, reports progress in the namespace's status conditions under
upstream's names, and once nothing is left removes the `kubernetes` finalizer through the `finalize`
subresource; the API server then removes the namespace, which is what `kubectl delete ns` waits for.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from kubelite.api.resources import RESOURCES, Resource
from kubelite.client import errors, paths
from kubelite.client.controller import Controller, RequeueAfter
from kubelite.client.frozen import thaw
from kubelite.client.rest import JSON, RestClient
from kubelite.controllers.context import ControllerContext

log = logging.getLogger(__name__)

NAMESPACES = paths.resource("", "v1", "namespaces")
FINALIZER = "kubernetes"
RECHECK_SECONDS = 1.0  # content that is going away (finalizers, graceful pods) is looked at again this often

# Everything that lives in a namespace and can be listed and deleted there.
NAMESPACED_CONTENT: tuple[Resource, ...] = tuple(
    r for r in RESOURCES if r.namespaced and {"list", "delete"} <= set(r.verbs)
)

# (type, reason when fine, message when fine, reason when not) as upstream names them.
_CONDITIONS = (
    (
        "NamespaceDeletionDiscoveryFailure",
        "ResourcesDiscovered",
        "All resources successfully discovered",
        "DiscoveryFailed",
    ),
    (
        "NamespaceDeletionGroupVersionParsingFailure",
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
        "GroupVersionParsingFailed",
    ),
    (
        "NamespaceDeletionContentFailure",
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
        "ContentDeletionFailed",
    ),
    (
        "NamespaceContentRemaining",
        "ContentRemoved",
        "All content successfully removed",
        "SomeResourcesRemain",
    ),
    (
        "NamespaceFinalizersRemaining",
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
        "SomeFinalizersRemain",
    ),
)


@dataclass
class Progress:
    """What one pass over the namespace's content found."""

    failures: list[str]
    remaining: Counter[str]  # resource -> objects still present
    finalizers: Counter[str]  # finalizer -> objects still carrying it

    def problems(self) -> dict[str, str]:
        """Condition type -> message, for the conditions that are True."""
        out: dict[str, str] = {}
        if self.failures:
            out["NamespaceDeletionContentFailure"] = (
                f"Failed to delete all resource types, {len(self.failures)} remaining: "
                + ", ".join(self.failures)
            )
        if self.remaining:
            out["NamespaceContentRemaining"] = "Some resources are remaining: " + ", ".join(
                f"{res} has {n} resource instances" for res, n in sorted(self.remaining.items())
            )
        if self.finalizers:
            listed = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(self.finalizers.items()))
            why = "Some content in the namespace has finalizers remaining"
            out["NamespaceFinalizersRemaining"] = f"{why}: {listed}"
        return out


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _resource_name(res: Resource) -> str:
    return f"{res.plural}.{res.group}" if res.group else res.plural


async def empty_namespace(client: RestClient, namespace: str) -> Progress:
    """Delete every object in `namespace` once; report what is still there afterwards."""
    progress = Progress(failures=[], remaining=Counter(), finalizers=Counter())
    for res in NAMESPACED_CONTENT:
        try:
            items = (await client.list_all(res, namespace=namespace)).get("items") or []
            for item in items:
                meta = item.get("metadata") or {}
                if not meta.get("deletionTimestamp"):
                    try:
                        answer = await client.delete(res, meta["name"], namespace=namespace)
                    except errors.NotFound:
                        continue
                    meta = answer.get("metadata") or {}
                    if not meta.get("deletionTimestamp"):
                        continue  # gone at once (the answer is its last state, or a Status)
                progress.remaining[_resource_name(res)] += 1
                for finalizer in meta.get("finalizers") or ():
                    progress.finalizers[finalizer] += 1
        except errors.ClientError as exc:
            log.warning("namespace %s: cannot delete %s: %s", namespace, _resource_name(res), exc)
            progress.failures.append(_resource_name(res))
    return progress


def with_conditions(namespace: JSON, problems: dict[str, str]) -> JSON | None:
    """`namespace` with its deletion conditions set from `problems`, or None if nothing would change."""
    status = namespace.setdefault("status", {})
    old = {c.get("type"): c for c in status.get("conditions") or []}
    conditions: list[dict[str, Any]] = []
    for kind, ok_reason, ok_message, bad_reason in _CONDITIONS:
        bad = problems.get(kind)
        wanted = {
            "type": kind,
            "status": "True" if bad else "False",
            "reason": bad_reason if bad else ok_reason,
            "message": bad or ok_message,
        }
        previous = old.get(kind)
        same = previous is not None and all(previous.get(k) == v for k, v in wanted.items())
        stamp = previous.get("lastTransitionTime") if same and previous is not None else _now()
        conditions.append({**wanted, "lastTransitionTime": stamp})
    if conditions == list(status.get("conditions") or []):
        return None
    status["conditions"] = conditions
    return namespace


class NamespaceController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.namespaces = ctx.informers.informer(NAMESPACES)
        self.controller = Controller("namespace", self.reconcile, workers=2)
        self.controller.watch(self.namespaces)

    async def run(self) -> None:
        await self.controller.run()

    async def reconcile(self, key: str) -> None:
        cached = self.namespaces.cache.get(key)
        if cached is None or not (cached.get("metadata") or {}).get("deletionTimestamp"):
            return
        if FINALIZER not in ((cached.get("spec") or {}).get("finalizers") or ()):
            return
        progress = await empty_namespace(self.client, key)
        namespace = await self.client.get(NAMESPACES, key)
        updated = with_conditions(thaw(namespace), progress.problems())
        if updated is not None:
            namespace = await self.client.update(NAMESPACES, updated, subresource="status")
        if progress.failures or progress.remaining:
            raise RequeueAfter(RECHECK_SECONDS)
        spec = namespace.setdefault("spec", {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != FINALIZER]
        await self.client.update(NAMESPACES, namespace, subresource="finalize")


def new_controller(ctx: ControllerContext) -> NamespaceController:
    return NamespaceController(ctx)
