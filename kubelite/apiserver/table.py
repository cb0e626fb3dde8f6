"""The resources the server serves: the shared table (kubelite.api.resources) in the server's own shape.

Streaming ("connect") subresources such as pods/exec are listed for discovery like any other; whichever
part of kubelite serves them registers a handler in subresources.py.
"""

from __future__ import annotations

from kubelite.api import resources as table
from kubelite.apiserver.resource import ApiResource, GroupVersionKind, Subresource


def _adapt(r: table.Resource) -> ApiResource:
    subresources = tuple(
        Subresource(s.name, GroupVersionKind(*r.subresource_gvk(s)), tuple(s.verbs)) for s in r.subresources
    )
    return ApiResource(
        group=r.group,
        version=r.version,
        kind=r.kind,
        plural=r.plural,
        singular=r.singular,
        namespaced=r.namespaced,
        short_names=tuple(r.short_names),
        categories=tuple(r.categories),
        verbs=tuple(r.verbs),
        subresources=subresources,
    )


def load_resources() -> list[ApiResource]:
    return [_adapt(r) for r in table.RESOURCES]
