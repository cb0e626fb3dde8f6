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
from kubelite.apiserver.listing import ListQuery, cached_page, list_objects, parse_revision
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.watchcache import Entry
from kubelite.store import Event, EventType, StoreError, Watch, WatchCutOff

# Without timeoutSeconds a watch lasts a random 30-60 minutes (upstream's min-request-timeout spread), so
# clients re-establish watches at different times.
_DEFAULT_TIMEOUT = (1800.0, 3600.0)
# A reader that leaves an event unwritten (its socket full) this long is not keeping up: it is cut off.
_STUCK_AFTER = 5.0
_WRITE_TIMEOUT = 30.0

# Encodes one object for the wire as a one-row Table (None: the object itself, whose JSON every watcher of
# the resource shares).
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


def _event_type(event: Event, q: ListQuery, registry: Registry) -> tuple[str, Entry] | None:
    entry = registry.recent_events.get(event.kv)
    if q.selects_all:
        if event.type is EventType.DELETED:
            return "DELETED", entry
        return ("MODIFIED" if event.prev is not None else "ADDED"), entry
    obj = entry.obj()
    now_matches = event.type is not EventType.DELETED and q.matches(obj)
    before_matches = event.prev is not None and q.matches(registry.recent_events.get(event.prev).obj())
    if event.type is EventType.DELETED:
        return ("DELETED", entry) if before_matches or q.matches(obj) else None
    if now_matches:
        return ("MODIFIED" if before_matches else "ADDED"), entry
    if before_matches:
        return "DELETED", entry
    return None


class WatchStream:
    def __init__(
        self,
        request: web.Request,
        registry: Registry,
        namespace: str,
        q: ListQuery,
        p: WatchParams,
        encode: Encode | None,
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
        self._pumped = 0  # the revision of the last event the pump took from the store
        self._writing_since: float | None = None  # when the pump began the write it is blocked in

    async def _send(self, kind: str, obj: Any) -> None:
        await self._write(orjson.dumps({"type": kind, "object": obj}) + b"\n")

    async def _send_entry(self, kind: str, entry: Entry, *, guarded: bool = False) -> None:
        if self.encode is not None:  # a fresh copy: the entry's object is shared
            line = orjson.dumps({"type": kind, "object": self.encode(self.registry.decode(entry.kv))})
        else:
            line = b'{"type":"' + kind.encode() + b'","object":' + entry.json() + b"}"
        await self._write(line + b"\n", guarded=guarded)

    async def _write(self, line: bytes, *, guarded: bool = False) -> None:
        """`guarded`: the caller watches for a write that does not finish, so it needs no timer."""
        if guarded:
            await self.response.write(line)
            return
        async with asyncio.timeout(_WRITE_TIMEOUT):
            await self.response.write(line)

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
        cached = await cached_page(self.registry, self.namespace, unlimited)
        if cached is not None:
            for entry in cached.entries:
                await self._send_entry("ADDED", entry)
            self.sent_revision = cached.revision
            return cached.revision
        page = await list_objects(self.registry, self.namespace, unlimited)
        for obj in page.items:
            await self._send("ADDED", self.encode(obj) if self.encode is not None else obj)
        self.sent_revision = page.revision
        return page.revision

    async def _follow(self, after: int, deadline: float) -> None:
        """Events are written by a pump task as they arrive (one wake-up per event); this task keeps the
        deadline, sends bookmarks and cuts off a reader whose socket stays full."""
        store = self.registry.store
        watch = store.watch(self.registry.resource.list_prefix(self.namespace), after_revision=after)
        self.sent_revision = max(self.sent_revision, after)
        self._pumped = after
        pump = asyncio.create_task(self._pump(watch, after))
        # A bookmark may only claim a revision whose events have surely reached this stream. Once the watch
        # is live, the store's revision seen one interval earlier qualifies whenever the pump is idle: a
        # live watcher gets events as they commit, so none that old can still be on the way. The watch is
        # live once it has passed the store's revision at its start, or once its catch-up has delivered
        # nothing for a whole interval. Until then bookmarks repeat the last event's revision.
        start_revision = await store.current_revision()
        safe_revision = start_revision
        live = after >= start_revision
        pumped_at_tick = self._pumped
        next_bookmark = time.monotonic() + self.p.bookmark_interval
        try:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return
                wake = min(deadline, now + _STUCK_AFTER)
                if self.p.bookmarks:
                    wake = min(wake, next_bookmark)
                await asyncio.wait({pump}, timeout=max(wake - now, 0.0))
                if pump.done():
                    pump.result()  # its failure, if any, is this request's
                    return
                now = time.monotonic()
                if self._writing_since is not None and now - self._writing_since >= _STUCK_AFTER:
                    # Too slow a reader: drop the connection now rather than finish the backlog; the client
                    # re-watches from the last revision it saw.
                    if self.request.transport is not None:
                        self.request.transport.abort()
                    return
                if self.p.bookmarks and now >= next_bookmark:
                    live = live or self._pumped >= start_revision or self._pumped == pumped_at_tick
                    pumped_at_tick = self._pumped
                    if self._pumped <= self.sent_revision:  # not in the middle of writing an event
                        if live and safe_revision > self.sent_revision:
                            self.sent_revision = safe_revision
                        await self._bookmark(self.sent_revision)
                    safe_revision = await store.current_revision()
                    next_bookmark = time.monotonic() + self.p.bookmark_interval
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
            await watch.close()

    async def _pump(self, watch: Watch, after: int) -> None:
        try:
            async for event in watch:
                self._pumped = event.revision
                typed = _event_type(event, self.q, self.registry)
                if typed is not None:
                    self._writing_since = time.monotonic()
                    await self._send_entry(*typed, guarded=True)
                    self._writing_since = None
                self.sent_revision = event.revision
        except WatchCutOff:
            # The store's queue for this watch overflowed: drop the connection (the client re-watches).
            if self.request.transport is not None:
                self.request.transport.abort()
        except StoreError as exc:
            # 410 Expired, or the store became unavailable.
            await self._send_error(
                errors.from_store_error(exc, self.registry.resource.ref, "", requested_revision=after)
            )
