"""Finding what a controller owns in an informer cache: objects indexed by their owners' uids."""

from __future__ import annotations

from kubelite.client.cache import Cache, Snapshot, by_owner_uid
from kubelite.controllers.ownership import controller_ref

OWNER_UID_INDEX = "owner-uid"


def index_by_owner(cache: Cache) -> None:
    cache.add_indexers({OWNER_UID_INDEX: by_owner_uid})


def controlled_by(cache: Cache, owner: Snapshot) -> list[Snapshot]:
    """Objects in `cache` whose controller is `owner` (the cache must be indexed with `index_by_owner`)."""
    uid = str(owner["metadata"]["uid"])
    found = []
    for obj in cache.by_index(OWNER_UID_INDEX, uid):
        ref = controller_ref(obj.get("metadata") or {})
        if ref is not None and ref.get("uid") == uid:
            found.append(obj)
    return found
