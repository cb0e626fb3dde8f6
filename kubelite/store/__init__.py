"""The versioned key-value store under the API server (only kubelite.apiserver imports it)."""

from kubelite.store.base import (
    AlreadyExists,
    Conflict,
    Event,
    EventType,
    Expired,
    FutureRevision,
    KeyValue,
    ListResult,
    NotFound,
    Store,
    StoreError,
    Unavailable,
    Watch,
    WatchCutOff,
)
from kubelite.store.open import open_store

__all__ = [
    "AlreadyExists",
    "Conflict",
    "Event",
    "EventType",
    "Expired",
    "FutureRevision",
    "KeyValue",
    "ListResult",
    "NotFound",
    "Store",
    "StoreError",
    "Unavailable",
    "Watch",
    "WatchCutOff",
    "open_store",
]
