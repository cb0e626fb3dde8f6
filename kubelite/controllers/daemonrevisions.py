"""ControllerRevisions of a DaemonSet: one per distinct pod template, named and labelled by its hash.

Pods carry the hash (controller-revision-hash) of the revision they were made from, so the controller can tell
updated pods from old ones and `kubectl rollout history/undo` can find earlier templates. The hash is
FNV-1a (32 bit) over the template and the collision count, spelled in upstream's "safe" alphabet; a name
already taken by a different template is a collision, resolved by bumping status.collisionCount.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api.resources import Resource
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.frozen import thaw
from kubelite.client.rest import RestClient
from kubelite.controllers.daemonpods import DAEMONSETS, REVISION_HASH_LABEL
from kubelite.controllers.ownership import reference_to

CONTROLLER_REVISIONS = paths.resource("apps", "v1", "controllerrevisions")
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


class HashCollision(Exception):
    """A revision of this name exists with another template."""


def template_hash(template: Any, collision_count: int) -> str:
    digest = 0x811C9DC5
    data = orjson.dumps(template, option=orjson.OPT_SORT_KEYS) + str(collision_count or "").encode()
    for byte in data:
        digest = ((digest ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE[ord(c) % len(_SAFE)] for c in str(digest))


def revision_data(daemonset: Snapshot) -> dict[str, Any]:
    """What a DaemonSet revision stores: a patch that restores its template."""
    return {"spec": {"template": {**thaw(daemonset["spec"]["template"]), "$patch": "replace"}}}


def revision_number(revision: Snapshot) -> int:
    return int(revision.get("revision") or 0)


async def current_revision(
    client: RestClient, daemonset: Snapshot, existing: list[Snapshot], *, owner: Resource = DAEMONSETS
) -> Snapshot:
    """The revision of the owner's current template, created (or moved to the newest number) as needed.
    StatefulSets keep their revisions the same way (`owner` names their resource)."""
    data = revision_data(daemonset)
    newest = max((revision_number(r) for r in existing), default=0)
    meta = daemonset["metadata"]
    for revision in existing:
        if revision.get("data") == data:
            if revision_number(revision) == newest:
                return revision
            patch = {"revision": newest + 1}
            moved: Snapshot = await client.patch(
                CONTROLLER_REVISIONS, str(revision["metadata"]["name"]), patch, namespace=meta["namespace"]
            )
            return moved
    digest = template_hash(
        daemonset["spec"]["template"], (daemonset.get("status") or {}).get("collisionCount", 0)
    )
    labels = {**thaw((daemonset["spec"]["template"].get("metadata") or {}).get("labels") or {})}
    labels[REVISION_HASH_LABEL] = digest
    revision = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"{meta['name']}-{digest}",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [reference_to(daemonset, owner)],
        },
        "data": data,
        "revision": newest + 1,
    }
    try:
        created: Snapshot = await client.create(CONTROLLER_REVISIONS, revision)
    except errors.AlreadyExists:
        found = await client.get(
            CONTROLLER_REVISIONS, revision["metadata"]["name"], namespace=meta["namespace"]
        )
        if found.get("data") != data:
            raise HashCollision(str(revision["metadata"]["name"])) from None
        return found
    return created


async def trim_history(
    client: RestClient, daemonset: Snapshot, existing: list[Snapshot], *, current: str, in_use: set[str]
) -> None:
    """Delete the oldest revisions beyond revisionHistoryLimit that no pod still runs."""
    limit = daemonset["spec"].get("revisionHistoryLimit", 10)
    old = sorted(
        (
            r
            for r in existing
            if r["metadata"]["name"] != current
            and (r["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL) not in in_use
        ),
        key=revision_number,
    )
    for revision in old[: max(len(old) - limit, 0)]:
        try:
            await client.delete(
                CONTROLLER_REVISIONS,
                str(revision["metadata"]["name"]),
                namespace=daemonset["metadata"]["namespace"],
            )
        except errors.NotFound:
            pass
