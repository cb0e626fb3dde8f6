"""The API server's view of one resource type: just what serving it needs.

Built from the shared resource table (kubelite.api.resources) by `from_table`; the rest of the package only
sees this small, frozen record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubelite.apiserver import errors

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class GroupVersionKind:
    group: str
    version: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        return {"group": self.group, "version": self.version, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class Subresource:
    name: str  # "status", "scale", "log", ...
    response: GroupVersionKind
    verbs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApiResource:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = field(default=())

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def ref(self) -> errors.Resource:
        return errors.Resource(self.group, self.plural, self.kind)

    @property
    def has_status(self) -> bool:
        return any(s.name == "status" for s in self.subresources)

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)

    @property
    def storage_prefix(self) -> str:
        """`/registry/<group-or-core>/<plural>/`; namespaced keys add `<namespace>/`."""
        return f"/registry/{self.group or 'core'}/{self.plural}/"

    def key(self, namespace: str, name: str) -> str:
        if self.namespaced:
            return f"{self.storage_prefix}{namespace}/{name}"
        return f"{self.storage_prefix}{name}"

    def list_prefix(self, namespace: str) -> str:
        return f"{self.storage_prefix}{namespace}/" if self.namespaced and namespace else self.storage_prefix
