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
from kubelite.client.rest import RestClient
from kubelite.controllers.daemonrevisions import (
    CONTROLLER_REVISIONS,
    HashCollision,
    current_revision,
    revision_number,
)
from kubelite.controllers.statefulset_pods import STATEFULSETS

__all__ = ["HashCollision", "revision_template", "trim_history", "update_revision"]


def revision_template(revision: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod template a revision stores."""
    return revision["data"]["spec"]["template"]  # type: ignore[no-any-return]


async def update_revision(client: RestClient, sts: Snapshot, existing: list[Snapshot]) -> Snapshot:
    """The revision of the set's current template, created or renumbered newest as needed."""
    return await current_revision(client, sts, existing, owner=STATEFULSETS)


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
