"""Informers: keep a local, indexed copy of one resource current by listing once and then watching.

The watch resumes from the last resourceVersion it saw (bookmarks included). A 410 Expired means the server's
history no longer reaches back that far: list again and reconcile the cache with the fresh list (objects
that vanished meanwhile are reported deleted). Other failures retry with capped exponential backoff: a broken
connection resumes the watch, a refusal from the server starts over with a list.

Handlers run in the informer's task, in event order, and receive the cache's frozen snapshots (see
kubelite.client.frozen): reading them is free, changing them raises TypeError — `thaw()` a copy to edit.
Handlers should be quick (typically: put a key on a work queue); one that raises is logged and skipped.

`drop_managed_fields=True` keeps objects without metadata.managedFields (kube-scheduler's pod informer
does the same): cheaper to freeze and hold, for components that never read them.

An `InformerFactory` hands out one informer per (resource, namespace, selectors), so all controllers of a
process share one list+watch and one cache per resource.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api.resources import Resource
from kubelite.client import errors
from kubelite.client.cache import Cache, IndexFunc, Snapshot, object_key
from kubelite.client.frozen import freeze
from kubelite.client.rest import RestClient

log = logging.getLogger(__name__)

# A watch that ends sooner than this without a single event counts as a failure (and backs off).
_SHORT_WATCH = 1.0

OnAdd = Callable[[Snapshot], None]
OnUpdate = Callable[[Snapshot, Snapshot], None]
OnDelete = Callable[[Snapshot], None]


@dataclass(frozen=True, slots=True)
class Handlers:
    on_add: OnAdd | None = None
    on_update: OnUpdate | None = None
    on_delete: OnDelete | None = None


class Backoff:
    """Capped exponential delays with jitter, reset after a success."""

    def __init__(self, *, initial: float = 0.8, cap: float = 30.0) -> None:
        self._initial, self._cap = initial, cap
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self._cap)
        return delay * random.uniform(1.0, 1.2)

    def reset(self) -> None:
        self._next = self._initial


def _resource_version(obj: Snapshot) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


class Informer:
    """List+watch of one resource into a `Cache`. Run it with `await informer.run()` (until cancelled)."""

    def __init__(
        self,
        client: RestClient,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        min_watch_timeout: float = 300.0,
        watch_bookmarks: bool = True,
        page_size: int = 500,
        retry_backoff: Backoff | None = None,
        drop_managed_fields: bool = False,
    ) -> None:
        self.client = client
        self.resource = res
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.cache = Cache(indexers)
        self.synced = asyncio.Event()
        # The resourceVersion of the last list that the cache was rebuilt from.
        self.last_sync_resource_version = ""
        self._min_watch_timeout = min_watch_timeout
        self._watch_bookmarks = watch_bookmarks
        self._page_size = page_size
        self._backoff = retry_backoff or Backoff()
        self._drop_managed_fields = drop_managed_fields
        self._handlers: list[Handlers] = []
        self._resource_version = ""

    def has_synced(self) -> bool:
        return self.synced.is_set()

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        self.cache.add_indexers(indexers)

    def add_handlers(
        self,
        *,
        on_add: OnAdd | None = None,
        on_update: OnUpdate | None = None,
        on_delete: OnDelete | None = None,
    ) -> None:
        """Register handlers. Objects already cached are replayed to `on_add`, so a late subscriber of a
        shared informer sees the same world as an early one."""
        handlers = Handlers(on_add, on_update, on_delete)
        self._handlers.append(handlers)
        if on_add is not None:
            for obj in self.cache.list():
                self._call(on_add, obj)

    async def run(self) -> None:
        """List, then watch, until cancelled. After 410 Expired: list again at once. After a broken
        connection: back off, then watch on from the last resourceVersion. After any other failure (the
        server refused the list or watch): back off, then list again."""
        backoff = self._backoff
        must_list = True
        while True:
            try:
                if must_list:
                    await self._list_and_replace()
                    must_list = False
                started = time.monotonic()
                events = await self._watch()
            except errors.Gone as exc:
                log.info("%s: %s; listing again", self.description, exc.message)
                must_list = True
                continue
            except errors.TransportError as exc:
                problem = str(exc)
            except errors.ClientError as exc:
                problem, must_list = str(exc), True
            else:
                if events or time.monotonic() - started >= _SHORT_WATCH:
                    backoff.reset()
                    continue
                problem = "the watch ended at once"  # a server shedding load must not be hammered
            delay = backoff.next_delay()
            log.warning("%s: %s; retrying in %.1fs", self.description, problem, delay)
            await asyncio.sleep(delay)

    @property
    def description(self) -> str:
        scope = f" in {self.namespace}" if self.namespace else ""
        return f"informer for {self.resource.plural}{scope}"

    async def _list_and_replace(self) -> None:
        page = await self.client.list_all(
            self.resource,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            page_size=self._page_size,
        )
        self.replace(page.get("items") or [], str((page.get("metadata") or {}).get("resourceVersion", "")))

    def replace(self, items: list[dict[str, Any]], resource_version: str) -> None:
        """Make the cache equal `items` (a complete list at `resource_version`), telling handlers what
        changed: deleted for keys that vanished, added for new ones, updated where the version moved."""
        fresh = {object_key(item): self._trim(item) for item in items}
        for key in self.cache.keys():
            if key not in fresh:
                gone = self.cache.remove(key)
                if gone is not None:
                    self._dispatch_delete(gone)
        for key, item in fresh.items():
            cached = self.cache.get(key)
            if cached is not None and _resource_version(cached) == _resource_version(item):
                continue
            stored, old = self.cache.put(item)
            if old is None:
                self._dispatch_add(stored)
            else:
                self._dispatch_update(old, stored)
        self._resource_version = resource_version
        self.last_sync_resource_version = resource_version
        self.synced.set()

    async def _watch(self) -> int:
        """Follow changes until the server ends the stream (after a random 1-2x min_watch_timeout, so the
        watches of many clients do not all restart at once). Returns how many events came."""
        timeout = int(self._min_watch_timeout * random.uniform(1.0, 2.0))
        watch = self.client.watch(
            self.resource,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            resource_version=self._resource_version,
            timeout_seconds=max(timeout, 1),
            bookmarks=self._watch_bookmarks,
        )
        events = 0
        try:
            async with watch:
                async for kind, obj in watch:
                    self.apply_event(kind, obj)
                    self._resource_version = watch.resource_version
                    events += 1
        finally:
            self._resource_version = watch.resource_version or self._resource_version
        return events

    def apply_event(self, kind: str, obj: dict[str, Any]) -> None:
        """Fold one watch event into the cache and tell the handlers."""
        if kind == "DELETED":
            # The final state goes to the handlers; a key never seen is not reported (as in client-go).
            if self.cache.remove(object_key(obj)) is not None:
                self._dispatch_delete(freeze(self._trim(obj)))
            return
        stored, old = self.cache.put(self._trim(obj))
        if old is None:
            self._dispatch_add(stored)
        else:
            self._dispatch_update(old, stored)

    def _trim(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Without metadata.managedFields when asked (as kube-scheduler's pod informer): no controller
        reads them, and they are the bulk of what freezing a pod costs. `obj` is this informer's own
        freshly decoded copy."""
        if self._drop_managed_fields:
            meta = obj.get("metadata")
            if type(meta) is dict:
                meta.pop("managedFields", None)
        return obj

    def _dispatch_add(self, obj: Snapshot) -> None:
        for h in self._handlers:
            if h.on_add is not None:
                self._call(h.on_add, obj)

    def _dispatch_update(self, old: Snapshot, new: Snapshot) -> None:
        for h in self._handlers:
            if h.on_update is not None:
                self._call(h.on_update, old, new)

    def _dispatch_delete(self, obj: Snapshot) -> None:
        for h in self._handlers:
            if h.on_delete is not None:
                self._call(h.on_delete, obj)

    def _call(self, handler: Callable[..., None], *args: Snapshot) -> None:
        try:
            handler(*args)
        except Exception:
            log.exception("%s: event handler %r failed", self.description, handler)


InformerKey = tuple[str, str, str, str | None, str | None, str | None]


class InformerFactory:
    """Shared informers: `informer(...)` returns the same Informer for the same resource and filters.
    `run()` (cancel to stop) runs every informer, including ones asked for after it started.
    `informer_options` (min_watch_timeout, page_size, ...) apply to every informer it makes."""

    def __init__(self, client: RestClient, **informer_options: Any) -> None:
        self.client = client
        self._options = informer_options
        self._informers: dict[InformerKey, Informer] = {}
        self._group: asyncio.TaskGroup | None = None

    def informer(
        self,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Informer:
        key = (res.group, res.version, res.plural, namespace, label_selector, field_selector)
        informer = self._informers.get(key)
        if informer is None:
            informer = Informer(
                self.client,
                res,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                **self._options,
            )
            self._informers[key] = informer
            if self._group is not None:
                self._group.create_task(informer.run(), name=informer.description)
        return informer

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            try:
                for informer in self._informers.values():
                    group.create_task(informer.run(), name=informer.description)
                await asyncio.get_running_loop().create_future()  # until cancelled
            finally:
                self._group = None

    async def wait_for_sync(self, within: float | None = None) -> bool:
        """True once every informer has listed; False if `within` seconds passed first."""
        waits = [i.synced.wait() for i in self._informers.values()]
        try:
            async with asyncio.timeout(within):
                await asyncio.gather(*waits)
        except TimeoutError:
            return False
        return True
