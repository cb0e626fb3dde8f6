"""The store interface: a versioned key-value store with etcd's semantics.

Only the API server uses it. Values are opaque bytes. Every write gets the next value of one global,
strictly increasing revision, and that number is what the API calls resourceVersion. Each driver
(SQLite, etcd) implements `Store`; one conformance suite (tests/integration/store) runs against all.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int


class EventType(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class Event:
    """One change. `kv` is the new value (for DELETED: the value as it was deleted, with
    mod_revision = the revision of the delete); `prev` is the value before (None for CREATED)."""

    type: EventType
    kv: KeyValue
    prev: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int  # the revision the read saw; pass it back to page consistently
    more: bool  # more keys follow the last item (continue with start_after=items[-1].key)


class StoreError(Exception):
    """Base of the store's domain errors; the API server maps each to one HTTP Status."""


class NotFound(StoreError):
    pass


class AlreadyExists(StoreError):
    pass


class Conflict(StoreError):
    """Compare-and-swap failed: the key's revision is not the expected one (or the key is gone)."""

    def __init__(self, message: str, current: KeyValue | None = None) -> None:
        super().__init__(message)
        self.current = current


class Expired(StoreError):
    """The requested revision has been compacted away (HTTP 410 Gone, reason Expired)."""

    def __init__(self, message: str, compact_revision: int) -> None:
        super().__init__(message)
        self.compact_revision = compact_revision


class FutureRevision(StoreError):
    """A revision ahead of the store did not arrive within the wait ("Too large resource version")."""

    def __init__(self, message: str, current_revision: int) -> None:
        super().__init__(message)
        self.current_revision = current_revision


class WatchCutOff(StoreError):
    """The watcher fell behind its bounded queue and was dropped; it must re-list."""


class Unavailable(StoreError):
    """The backing database cannot be opened or reached."""


class Watch(Protocol):
    """An ordered stream of events for one prefix. Iterating ends when the watch is closed; it raises
    WatchCutOff if the consumer fell behind, Expired if it started at a compacted revision."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...


class Store(Protocol):
    async def get(self, key: str) -> KeyValue:
        """The current value; NotFound if absent."""
        ...

    async def list(
        self, prefix: str, *, limit: int = 0, start_after: str = "", revision: int = 0
    ) -> ListResult:
        """Live keys under prefix in key order, as of `revision` (0 = now), at most `limit` (0 = all),
        beginning after `start_after`. Expired if `revision` is compacted; FutureRevision if it is ahead
        of the store for longer than a short wait."""
        ...

    async def create(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        """Create a key that does not exist (AlreadyExists otherwise); returns the new revision.
        With `ttl` (seconds) the key is deleted, with a normal DELETED event, once it expires."""
        ...

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, ttl: float | None = None
    ) -> int:
        """Replace the value if the key's mod_revision equals `expected_revision`; Conflict otherwise
        (NotFound if the key is absent). Returns the new revision."""
        ...

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        """Delete the key (if `expected_revision` is non-zero, only at that revision: Conflict
        otherwise). Returns the deleted value with mod_revision = the delete's revision."""
        ...

    def watch(self, prefix: str, *, after_revision: int) -> Watch:
        """Every change under prefix with revision > after_revision, exactly once, in order.
        after_revision 0 means "from now"."""
        ...

    async def current_revision(self) -> int: ...

    async def compact(self, revision: int) -> None:
        """Forget history at and before `revision` (the latest value of each live key stays)."""
        ...

    async def close(self) -> None: ...
