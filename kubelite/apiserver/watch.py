"""WATCH: a chunked stream of newline-delimited JSON events.

Without a resourceVersion (or with "0") the stream starts with an ADDED event per existing object, then
follows changes; with resourceVersion N it replays every change after N (410 Expired, sent as an ERROR event,
when N is compacted). Selectors apply to the object before and after each change, so an object that stops
matching is DELETED from the watcher's view and one that starts matching is ADDED. Bookmarks carry a revision
every event up to which has been sent. Nothing is buffered without bound: a client that stops reading fills
the socket, then the store's bounded queue, and is cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from kubelite.apiserver import errors
from kubelite.apiserver.listing import ListQuery, list_objects, parse_revision
from kubelite.apiserver.registry import Registry
from kubelite.store import Event, EventType, StoreError, WatchCutOff

# Without timeoutSeconds a watch lasts a random 30-60 minutes (upstream's min-request-timeout spread), so
# clients re-establish watches at different times.
_DEFAULT_TIMEOUT = (1800.0, 3600.0)
_LOCAL_QUEUE = 16
# A reader whose queue stays full this long is not keeping up: it is cut off.
_STUCK_AFTER = 5.0
_WRITE_TIMEOUT = 30.0

# Encodes one object for the wire: the object itself, or a one-row Table.
Encode = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class WatchParams:
    start_revision: str  # "" / "0" = send the current state first
    timeout: float
    bookmarks: bool
    bookmark_interval: float


def params(query: dict[str, str], *, bookmark_interval: float) -> WatchParams:
    timeout_text = query.get("timeoutSeconds")
    if timeout_text:
        try:
            timeout = float(int(timeout_text))
        except ValueError as exc:
            raise errors.bad_request(f"invalid timeoutSeconds {timeout_text!r}") from exc
    else:
        timeout = random.uniform(*_DEFAULT_TIMEOUT)
    bookmarks = query.get("allowWatchBookmarks", "").lower() in ("1", "true")
    return WatchParams(query.get("resourceVersion", ""), max(timeout, 0.0), bookmarks, bookmark_interval)


def _event_type(event: Event, q: ListQuery, registry: Registry) -> tuple[str, dict[str, Any]] | None:
    obj = registry.decode(event.kv)
    now_matches = event.type is not EventType.DELETED and q.matches(obj)
    before_matches = event.prev is not None and q.matches(registry.decode(event.prev))
    if event.type is EventType.DELETED:
        return ("DELETED", obj) if before_matches or q.matches(obj) else None
    if now_matches:
        return ("MODIFIED" if before_matches else "ADDED"), obj
    if before_matches:
        return "DELETED", obj
    return None


class WatchStream:
    def __init__(
        self,
        request: web.Request,
        registry: Registry,
        namespace: str,
        q: ListQuery,
        p: WatchParams,
        encode: Encode,
    ) -> None:
        self.request = request
        self.registry = registry
        self.namespace = namespace
        self.q = q
        self.p = p
        self.encode = encode
        self.response = web.StreamResponse(headers={"Content-Type": "application/json"})
        self.response.enable_chunked_encoding()
        self.sent_revision = 0

    async def _send(self, kind: str, obj: Any) -> None:
        line = orjson.dumps({"type": kind, "object": obj}) + b"\n"
        await asyncio.wait_for(self.response.write(line), _WRITE_TIMEOUT)

    async def _send_error(self, error: errors.ApiError) -> None:
        await self._send("ERROR", error.status())

    async def _bookmark(self, revision: int) -> None:
        res = self.registry.resource
        obj = {
            "kind": res.kind,
            "apiVersion": res.group_version,
            "metadata": {"resourceVersion": str(revision)},
        }
        await self._send("BOOKMARK", obj)

    async def run(self) -> web.StreamResponse:
        await self.response.prepare(self.request)
        deadline = time.monotonic() + self.p.timeout
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            try:
                after = await self._initial_state()
            except errors.ApiError as exc:
                await self._send_error(exc)
                return self.response
            await self._follow(after, deadline)
        return self.response

    async def _initial_state(self) -> int:
        """Send ADDED for the current state when asked; return the revision to follow from."""
        rv = self.p.start_revision
        if rv and rv != "0":
            return parse_revision(rv)
        unlimited = ListQuery(self.q.labels, self.q.fields, 0, None, "", "")
        page = await list_objects(self.registry, self.namespace, unlimited)
        for obj in page.items:
            await self._send("ADDED", self.encode(obj))
        self.sent_revision = page.revision
        return page.revision

    async def _follow(self, after: int, deadline: float) -> None:
        store = self.registry.store
        watch = store.watch(self.registry.resource.list_prefix(self.namespace), after_revision=after)
        queue: asyncio.Queue[Event | errors.ApiError | None] = asyncio.Queue(_LOCAL_QUEUE)
        self.sent_revision = max(self.sent_revision, after)

        pumped = after

        async def pump() -> None:
            nonlocal pumped
            try:
                async for event in watch:
                    pumped = event.revision
                    await asyncio.wait_for(queue.put(event), _STUCK_AFTER)
                await queue.put(None)
            except (WatchCutOff, TimeoutError):
                # Too slow a reader (our queue stayed full, or the store's overflowed): drop the connection
                # now rather than finish the backlog; the client re-watches from the last revision it saw.
                if self.request.transport is not None:
                    self.request.transport.abort()
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)
            except StoreError as exc:
                error = errors.from_store_error(exc, self.registry.resource.ref, "", requested_revision=after)
                await queue.put(error)

        pump_task = asyncio.create_task(pump())
        # A bookmark may only claim a revision whose events have surely reached this stream. Once the watch
        # is live, the store's revision seen one interval earlier qualifies whenever the local queue is
        # empty: a live watcher gets events as they commit, so none that old can still be on the way. The
        # watch is live once it has passed the store's revision at its start, or once its catch-up has
        # delivered nothing for a whole interval. Until then bookmarks repeat the last event's revision.
        start_revision = await store.current_revision()
        safe_revision = start_revision
        live = after >= start_revision
        pumped_at_tick = pumped
        next_bookmark = time.monotonic() + self.p.bookmark_interval
        try:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return
                wait = min(deadline, next_bookmark) - now if self.p.bookmarks else deadline - now
                try:
                    item = await asyncio.wait_for(queue.get(), max(wait, 0.0))
                except TimeoutError:
                    if self.p.bookmarks and time.monotonic() >= next_bookmark:
                        live = live or pumped >= start_revision or pumped == pumped_at_tick
                        pumped_at_tick = pumped
                        if live and queue.empty() and safe_revision > self.sent_revision:
                            self.sent_revision = safe_revision
                        await self._bookmark(self.sent_revision)
                        safe_revision = await store.current_revision()
                        next_bookmark = time.monotonic() + self.p.bookmark_interval
                    continue
                if item is None:
                    return
                if isinstance(item, errors.ApiError):
                    await self._send_error(item)  # 410 Expired, or the store became unavailable
                    return
                typed = _event_type(item, self.q, self.registry)
                if typed is not None:
                    await self._send(typed[0], self.encode(typed[1]))
                self.sent_revision = item.revision
        finally:
            pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump_task
            await watch.close()
