"""ControllerRevisions of a StatefulSet: its pod templates, of which status names two.

updateRevision is the revision of the current template (created, or an equal older one renumbered newest, as
upstream); currentRevision is the one status names, until a rolling update completes. Pods carry the name of
their revision in controller-revision-hash. The hash and the stored patch are the DaemonSet's
(kubelite.controllers.daemonrevisions); only the owner differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.client import errors
from kubelite.client.cache import Snapshot
from kubelite.client.frozen import thaw
from kubelite.client.rest import RestClient
from kubelite.controllers.daemonrevisions import (
    CONTROLLER_REVISIONS,
    HashCollision,
    revision_data,
    revision_number,
    template_hash,
)
from kubelite.controllers.ownership import reference_to
from kubelite.controllers.statefulset_pods import REVISION_LABEL, STATEFULSETS

__all__ = ["HashCollision", "revision_template", "trim_history", "update_revision"]


def revision_template(revision: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod template a revision stores."""
    return revision["data"]["spec"]["template"]  # type: ignore[no-any-return]


async def update_revision(client: RestClient, sts: Snapshot, existing: list[Snapshot]) -> Snapshot:
    """The revision of the set's current template, created or renumbered newest as needed."""
    data = revision_data(sts)
    newest = max((revision_number(r) for r in existing), default=0)
    meta = sts["metadata"]
    for revision in existing:
        if revision.get("data") == data:
            if revision_number(revision) == newest:
                return revision
            moved: Snapshot = await client.patch(
                CONTROLLER_REVISIONS,
                str(revision["metadata"]["name"]),
                {"revision": newest + 1},
                namespace=meta["namespace"],
            )
            return moved
    digest = template_hash(sts["spec"]["template"], (sts.get("status") or {}).get("collisionCount", 0))
    labels = {**thaw((sts["spec"]["template"].get("metadata") or {}).get("labels") or {})}
    labels[REVISION_LABEL] = digest
    revision = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"{meta['name']}-{digest}",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [reference_to(sts, STATEFULSETS)],
        },
        "data": data,
        "revision": newest + 1,
    }
    try:
        created: Snapshot = await client.create(CONTROLLER_REVISIONS, revision)
    except errors.AlreadyExists:
        found: Snapshot = await client.get(
            CONTROLLER_REVISIONS, revision["metadata"]["name"], namespace=meta["namespace"]
        )
        if found.get("data") != data:
            raise HashCollision(str(revision["metadata"]["name"])) from None
        return found
    return created


async def trim_history(client: RestClient, sts: Snapshot, existing: list[Snapshot], live: set[str]) -> None:
    """Delete the oldest revisions beyond revisionHistoryLimit that no pod runs and status does not name."""
    limit = int(sts["spec"].get("revisionHistoryLimit", 10) or 0)
    old = sorted((r for r in existing if r["metadata"]["name"] not in live), key=revision_number)
    for revision in old[: max(len(old) - limit, 0)]:
        try:
            await client.delete(
                CONTROLLER_REVISIONS,
                str(revision["metadata"]["name"]),
                namespace=sts["metadata"]["namespace"],
            )
        except errors.NotFound:
            pass
