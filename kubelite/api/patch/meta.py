"""What a patch algorithm needs to know about a schema, and nothing more.

Strategic merge patch and server-side apply merge lists by key (containers by name, ports by
containerPort...).
That knowledge lives in the type schemas (kubelite.api.schema); this protocol is the narrow view the patch
modules take of it, so they can be tested with small hand-made schemas.
"""

from __future__ import annotations

from typing import Protocol


class PatchSchema(Protocol):
    def __hash__(self) -> int:
        """Schemas are immutable: walks cache what they look up per schema node."""
        ...

    def field(self, name: str) -> PatchSchema | None:
        """Schema of an object's field `name` (for a map: of any value); None if unknown."""
        ...

    @property
    def items(self) -> PatchSchema | None:
        """Schema of an array's elements; None if not an array or unknown."""
        ...

    @property
    def patch_merge_key(self) -> str | None:
        """x-kubernetes-patch-merge-key of this array field (e.g. "name" for containers)."""
        ...

    @property
    def patch_strategy(self) -> str:
        """x-kubernetes-patch-strategy: "", "merge", "replace", "retainKeys" or "merge,retainKeys"."""
        ...

    @property
    def list_type(self) -> str:
        """x-kubernetes-list-type: "", "atomic", "set" or "map" (server-side apply)."""
        ...

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        """x-kubernetes-list-map-keys for list_type "map"."""
        ...

    @property
    def map_type(self) -> str:
        """x-kubernetes-map-type: "", "atomic" or "granular" (server-side apply)."""
        ...
