"""An informer's local copy of a resource: objects by key, plus indexes to find them without scanning.

Keys are client-go's: `namespace/name`, or `name` for cluster-scoped objects. An index maps each value an
index function yields for an object (its namespace, each `key=value` label, each owner uid, its node) to the
keys of the objects that yield it; index functions are pluggable and may be added after objects arrived.
Stored objects are frozen (kubelite.client.frozen): every read returns the shared read-only snapshot.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from kubelite.client.frozen import freeze

Snapshot = Mapping[str, Any]
IndexFunc = Callable[[Snapshot], Iterable[str]]

NAMESPACE_INDEX = "namespace"


def object_key(obj: Snapshot) -> str:
    meta = obj.get("metadata") or {}
    namespace, name = meta.get("namespace"), meta.get("name", "")
    return f"{namespace}/{name}" if namespace else str(name)


def split_key(key: str) -> tuple[str | None, str]:
    """(namespace, name) of a key; namespace is None for a cluster-scoped object."""
    namespace, slash, name = key.partition("/")
    return (namespace, name) if slash else (None, key)


def by_namespace(obj: Snapshot) -> Iterable[str]:
    namespace = (obj.get("metadata") or {}).get("namespace")
    return (namespace,) if namespace else ()


def by_label(obj: Snapshot) -> Iterable[str]:
    """One `key=value` entry per label."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return [f"{k}={v}" for k, v in labels.items()]


def by_owner_uid(obj: Snapshot) -> Iterable[str]:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return [str(ref["uid"]) for ref in refs if ref.get("uid")]


def by_node_name(obj: Snapshot) -> Iterable[str]:
    node = (obj.get("spec") or {}).get("nodeName")
    return (node,) if node else ()


class Cache:
    """Objects by key and by index value. Only the informer writes; everyone else reads."""

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None) -> None:
        self._objects: dict[str, Snapshot] = {}
        self._indexers: dict[str, IndexFunc] = {NAMESPACE_INDEX: by_namespace}
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: {}}
        self.add_indexers(indexers or {})

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Add index functions; objects already cached are indexed at once. Redefining a name is an error
        (shared informers: two controllers must not disagree on what an index means)."""
        for name, func in indexers.items():
            existing = self._indexers.get(name)
            if existing is not None and existing is not func:
                raise ValueError(f"index {name!r} is already defined by another function")
            if existing is None:
                self._indexers[name] = func
                self._indices[name] = {}
                for key, obj in self._objects.items():
                    self._index_one(name, key, obj)

    # Reading

    def get(self, key: str) -> Snapshot | None:
        return self._objects.get(key)

    def get_by_name(self, name: str, *, namespace: str | None = None) -> Snapshot | None:
        return self._objects.get(f"{namespace}/{name}" if namespace else name)

    # (Annotations below say builtins.list: in the class body `list` is this method.)
    def list(self, *, namespace: str | None = None) -> builtins.list[Snapshot]:
        """Every object, or those of one namespace, in key order."""
        if namespace is not None:
            return self.by_index(NAMESPACE_INDEX, namespace)
        return [self._objects[k] for k in sorted(self._objects)]

    def keys(self) -> builtins.list[str]:
        return sorted(self._objects)

    def by_index(self, index: str, value: str) -> builtins.list[Snapshot]:
        """Objects whose index function yielded `value`, in key order."""
        if index not in self._indices:
            raise KeyError(f"no index named {index!r}")
        return [self._objects[k] for k in sorted(self._indices[index].get(value, ()))]

    def index_values(self, index: str) -> builtins.list[str]:
        """The values an index currently holds (e.g. every node that has pods)."""
        return sorted(self._indices[index])

    def __len__(self) -> int:
        return len(self._objects)

    def __contains__(self, key: object) -> bool:
        return key in self._objects

    def __iter__(self) -> Iterator[Snapshot]:
        return iter(self.list())

    # Writing (the informer)

    def put(self, obj: Mapping[str, Any]) -> tuple[Snapshot, Snapshot | None]:
        """Store a frozen copy of `obj`; return (stored, previous)."""
        stored: Snapshot = freeze(obj)
        key = object_key(stored)
        old = self._objects.get(key)
        if old is not None:
            self._unindex(key, old)
        self._objects[key] = stored
        for name in self._indexers:
            self._index_one(name, key, stored)
        return stored, old

    def remove(self, key: str) -> Snapshot | None:
        old = self._objects.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def _index_one(self, name: str, key: str, obj: Snapshot) -> None:
        index = self._indices[name]
        for value in self._indexers[name](obj):
            index.setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: Snapshot) -> None:
        for name, func in self._indexers.items():
            index = self._indices[name]
            for value in func(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
