"""LIST: resourceVersion semantics, selectors and chunking with continue tokens.

resourceVersion unset → the latest state; "0" → any state (we serve the latest); N with
resourceVersionMatch=Exact → the state at revision N; N otherwise (NotOlderThan) → the latest, waiting for
the store to reach N. A continue token pins every later page to the first page's revision.

A first page of the latest state (resourceVersion unset, "0" or NotOlderThan a revision the store has) comes
from the watch cache when it is consistent (registry.get_entry's rule); its continue token pins the later
pages, read from the store, to the cache's revision. Everything else reads the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from kubelite.api import selectors
from kubelite.apiserver import errors, fieldselectors, paging
from kubelite.apiserver.errors import field_error
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.watchcache import Entry
from kubelite.store import Expired, StoreError

_CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of "
    "the results. Continuing with the provided token results in an inconsistent list - objects that were "
    "created, modified, or deleted between the time the first chunk was returned and now may show up in "
    "the list."
)
_MAX_SCAN_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ListQuery:
    labels: selectors.Selector
    fields: fieldselectors.FieldSelector
    limit: int
    continue_token: paging.ContinueToken | None
    resource_version: str
    resource_version_match: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        return self.labels.matches(meta.get("labels")) and self.fields.matches(obj)

    @property
    def selects_all(self) -> bool:
        return self.labels.empty and not self.fields.requirements


@dataclass(frozen=True, slots=True)
class ListPage:
    items: list[dict[str, Any]]
    revision: int
    continue_token: str


@dataclass(frozen=True, slots=True)
class CachedPage:
    entries: list[Entry]
    revision: int
    continue_token: str


def _list_options_invalid(
    field: str, detail: str, value: Any = None, kind: str = "Forbidden"
) -> errors.ApiError:
    cause = field_error(kind, field, detail, value, has_value=value is not None)
    return errors.invalid(errors.Resource("meta.k8s.io", "listoptions", "ListOptions"), "", [cause])


def parse_revision(text: str) -> int:
    try:
        revision = int(text)
    except ValueError:
        revision = -1
    if revision < 0:
        raise errors.bad_request(f'invalid resource version "{text}": must be a non-negative integer')
    return revision


def parse_query(query: Mapping[str, str], *, group: str, resource: str, watch: bool) -> ListQuery:
    try:
        labels = selectors.parse(query.get("labelSelector"))
    except selectors.SelectorError as exc:
        raise errors.bad_request(f"unable to parse requirement: {exc}") from exc
    try:
        fields = fieldselectors.parse(query.get("fieldSelector"), group=group, resource=resource)
    except fieldselectors.FieldSelectorError as exc:
        raise errors.bad_request(str(exc)) from exc
    try:
        limit = int(query.get("limit") or 0)
    except ValueError as exc:
        raise errors.bad_request(f"invalid limit {query.get('limit')!r}") from exc
    rv, match = query.get("resourceVersion", ""), query.get("resourceVersionMatch", "")
    token_text = query.get("continue", "")
    if match:
        if watch:
            raise _list_options_invalid("resourceVersionMatch", "resourceVersionMatch is forbidden for watch")
        if not rv:
            raise _list_options_invalid(
                "resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"
            )
        if token_text:
            raise _list_options_invalid(
                "resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"
            )
        if match not in ("Exact", "NotOlderThan"):
            raise _list_options_invalid(
                "resourceVersionMatch",
                'supported values: "Exact", "NotOlderThan", ""',
                match,
                kind="NotSupported",
            )
        if match == "Exact" and rv == "0":
            raise _list_options_invalid(
                "resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
            )
    token = None
    if token_text and not watch:
        if rv and rv != "0":
            raise errors.bad_request("specifying resource version is not allowed when using continue")
        try:
            token = paging.decode(token_text)
        except paging.InvalidToken as exc:
            raise errors.bad_request(str(exc)) from exc
    if rv:
        parse_revision(rv)
    return ListQuery(labels, fields, max(limit, 0), token, rv, match)


async def _read_revision(registry: Registry, q: ListQuery) -> int:
    """The revision the first page reads at (0 = whatever is latest)."""
    if q.continue_token is not None:
        return q.continue_token.revision
    if not q.resource_version or q.resource_version == "0":
        return 0
    wanted = parse_revision(q.resource_version)
    if q.resource_version_match == "Exact":
        return wanted
    # NotOlderThan: the latest state, once the store has reached the wanted revision.
    try:
        current = await registry.store.current_revision()
    except StoreError as exc:
        raise errors.from_store_error(exc, registry.resource.ref, "", requested_revision=wanted) from exc
    return wanted if wanted > current else 0


def _prefixes(registry: Registry, namespace: str, q: ListQuery) -> tuple[str, str]:
    """The collection's key prefix and the (possibly narrower) prefix to read."""
    base = registry.resource.list_prefix(namespace)
    exact = q.fields.exact_name()
    if exact is not None and registry.resource.namespaced == bool(namespace):
        return base, base + exact  # one name: read a narrow range instead of the collection
    return base, base


async def cached_page(registry: Registry, namespace: str, q: ListQuery) -> CachedPage | None:
    """The page from the watch cache, or None when the cache cannot answer it exactly."""
    if registry.cache is None or q.continue_token is not None or q.resource_version_match == "Exact":
        return None
    if q.resource_version not in ("", "0"):
        wanted = parse_revision(q.resource_version)
        try:
            if wanted > await registry.store.current_revision():
                return None  # the store waits for it (or answers "Too large resource version")
        except StoreError:
            return None  # the store path answers with the error's Status
    cache = await registry.cache.consistent(registry.resource.storage_prefix)
    if cache is None:
        return None
    revision = registry.cache.revision
    base, prefix = _prefixes(registry, namespace, q)
    candidates = cache.range(prefix)
    entries: list[Entry] = []
    token = ""
    for i, entry in enumerate(candidates):
        if q.selects_all or q.matches(entry.obj()):
            entries.append(entry)
            if q.limit and len(entries) == q.limit:
                # As the store reports it: more keys follow the last one returned, matching or not.
                if i + 1 < len(candidates):
                    token = paging.encode(paging.ContinueToken(revision, entry.kv.key[len(base) :]))
                break
    return CachedPage(entries, revision, token)


async def list_objects(registry: Registry, namespace: str, q: ListQuery) -> ListPage:
    cached = await cached_page(registry, namespace, q)
    if cached is not None:
        decoded = [registry.decode(e.kv) for e in cached.entries]
        return ListPage(decoded, cached.revision, cached.continue_token)
    base, prefix = _prefixes(registry, namespace, q)
    revision = await _read_revision(registry, q)
    start_after = base + q.continue_token.start_after if q.continue_token else ""
    items: list[dict[str, Any]] = []
    last_key, more = "", False
    while True:
        want = q.limit - len(items) if q.limit else 0
        page_size = max(want, min(_MAX_SCAN_PAGE, want * 2)) if want else 0
        try:
            result = await registry.store.list(
                prefix, limit=page_size, start_after=start_after, revision=revision
            )
        except Expired as exc:
            if q.continue_token is not None:
                raise errors.expired(_CONTINUE_TOO_OLD) from exc
            raise errors.from_store_error(
                exc, registry.resource.ref, "", requested_revision=revision
            ) from exc
        except StoreError as exc:
            raise errors.from_store_error(
                exc, registry.resource.ref, "", requested_revision=revision
            ) from exc
        revision = result.revision
        more = result.more
        for kv in result.items:
            last_key = kv.key
            obj = registry.decode(kv)
            if q.matches(obj):
                items.append(obj)
                if q.limit and len(items) >= q.limit:
                    more = more or kv is not result.items[-1]
                    break
        if not result.items or not more or (q.limit and len(items) >= q.limit):
            break
        start_after = last_key
    token = ""
    if more and q.limit and last_key:
        token = paging.encode(paging.ContinueToken(revision, last_key[len(base) :]))
    return ListPage(items, revision, token)


def list_body(
    registry: Registry, page: ListPage, transform: Callable[[dict[str, Any]], Any] | None = None
) -> dict[str, Any]:
    res = registry.resource
    meta: dict[str, Any] = {"resourceVersion": str(page.revision)}
    if page.continue_token:
        meta["continue"] = page.continue_token
    return {
        "kind": f"{res.kind}List",
        "apiVersion": res.group_version,
        "metadata": meta,
        "items": [transform(o) if transform else o for o in page.items],
    }


async def list_json(registry: Registry, namespace: str, q: ListQuery) -> bytes:
    """The list's JSON body; from the cache, the stored objects' JSON is joined without decoding it."""
    cached = await cached_page(registry, namespace, q)
    if cached is None:
        return orjson.dumps(list_body(registry, await list_objects(registry, namespace, q)))
    head = orjson.dumps(list_body(registry, ListPage([], cached.revision, cached.continue_token)))
    return head[:-2] + b",".join(e.json() for e in cached.entries) + b"]}"
