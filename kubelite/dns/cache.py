"""Rendered DNS responses by the query's bytes, each filed under the namespace its answer depends on.

A cluster answer for `*.<ns>.svc.<zone>` or `*.<ns>.pod.<zone>` depends only on namespace <ns>'s Services,
EndpointSlices and the Namespace itself; a change there forgets that namespace's entries, so pod churn in one
namespace does not cost every other namespace its cached answers. Entries filed under no namespace (reverse
lookups, ExternalName aliases, names with no namespace) are forgotten on any change.
"""

from __future__ import annotations

Key = tuple[bool, bytes]  # (over TCP, the query after its ID)


class ResponseCache:
    def __init__(self, size: int) -> None:
        self.size = size  # 0: cache nothing
        self._entries: dict[Key, bytes] = {}
        self._filed: dict[str | None, set[Key]] = {}

    def get(self, key: Key) -> bytes | None:
        return self._entries.get(key)

    def put(self, key: Key, response: bytes, namespace: str | None) -> None:
        if not self.size:
            return
        if len(self._entries) >= self.size:
            self.clear()
        self._entries[key] = response
        self._filed.setdefault(namespace, set()).add(key)

    def forget(self, namespace: str | None) -> None:
        """A change in `namespace` (None: somewhere unknown, forget everything)."""
        if namespace is None:
            self.clear()
            return
        for scope in (namespace, None):
            for key in self._filed.pop(scope, ()):
                self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._filed.clear()

    def __len__(self) -> int:
        return len(self._entries)
