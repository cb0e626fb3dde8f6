"""One etcd watch stream behind the store's `Watch`: resumed without loss when it breaks, bounded in memory.

Each watch runs its own bidirectional gRPC stream on the store's single channel. A reader task converts
etcd events into store events and buffers them for the consumer. If the stream breaks (etcd restart,
leader change) the reader opens a new one after the last revision it buffered: never after a response
header, which may be ahead of events not yet received. While replaying history (revisions that existed
when the stream was created) the consumer sets the pace; once live, a consumer whose buffer is full is
cut off (WatchCutOff) so it must re-list, and etcd keeps absorbing writes.

A stream asks etcd for events from the last revision already delivered (`after`) itself and drops that
revision's events: etcd then refuses exactly when `after` is below its compact revision, the same line
the SQLite driver draws (history at and below the compact revision is gone).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from aetcd import rpc

from kubelite.store.base import Event, EventType, Expired, KeyValue, StoreError, WatchCutOff

log = logging.getLogger(__name__)

# Stream failures worth retrying: the server went away or reset the stream. Anything else is permanent.
_RESUMABLE = frozenset(
    {
        rpc.StatusCode.UNAVAILABLE,
        rpc.StatusCode.INTERNAL,
        rpc.StatusCode.UNKNOWN,
        rpc.StatusCode.CANCELLED,
        rpc.StatusCode.DEADLINE_EXCEEDED,
    }
)
_RETRY_DELAY_MIN = 0.05
_RETRY_DELAY_MAX = 2.0


def key_value(kv: Any) -> KeyValue:
    return KeyValue(kv.key.decode(), kv.value, kv.create_revision, kv.mod_revision)


def to_event(ev: Any) -> Event:
    prev = key_value(ev.prev_kv) if ev.HasField("prev_kv") else None
    kv = ev.kv
    if ev.type == rpc.Event.DELETE:
        # etcd's delete event carries only the key and the delete's revision; the value comes from prev_kv.
        value, created = (prev.value, prev.create_revision) if prev else (b"", 0)
        return Event(EventType.DELETED, KeyValue(kv.key.decode(), value, created, kv.mod_revision), prev)
    if kv.create_revision == kv.mod_revision:
        return Event(EventType.CREATED, key_value(kv), None)
    return Event(EventType.UPDATED, key_value(kv), prev)


class _RestartStream(Exception):
    """The current stream must be replaced (it ended, was canceled, or has to start elsewhere)."""


class EtcdWatch:
    """Every change in [key, range_end) after revision `after`. With `from_now`, `after` is only an
    estimate of "now", so a compacted start moves forward instead of failing, until an event arrives."""

    def __init__(
        self,
        stub: Any,
        *,
        key: bytes,
        range_end: bytes,
        after: int,
        from_now: bool,
        queue_size: int,
        on_close: Callable[[EtcdWatch], None],
    ) -> None:
        self._stub = stub
        self._key = key
        self._range_end = range_end
        self._after = after  # the last revision delivered (buffered): a new stream resumes after it
        self._from_now = from_now
        self._queue_size = queue_size
        self._on_close = on_close
        self._buffer: deque[Event] = deque()
        self._readable = asyncio.Event()  # the buffer has events, or the watch ended
        self._space = asyncio.Event()  # the consumer took an event
        self._live_after = 0  # revisions above this arrived after the current stream was created
        self._failure: BaseException | None = None
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"etcd watch {key!r}")

    def __aiter__(self) -> EtcdWatch:
        return self

    async def __anext__(self) -> Event:
        while not self._buffer:
            if self._closed:
                raise StopAsyncIteration
            if self._failure is not None:
                raise self._failure
            self._readable.clear()
            await self._readable.wait()
        if self._closed:
            raise StopAsyncIteration
        self._space.set()
        return self._buffer.popleft()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._readable.set()
        self._task.cancel()
        await asyncio.wait([self._task])
        self._on_close(self)

    async def _run(self) -> None:
        delay = _RETRY_DELAY_MIN
        try:
            while True:
                progressed = await self._stream()
                delay = _RETRY_DELAY_MIN if progressed else min(delay * 2, _RETRY_DELAY_MAX)
                await asyncio.sleep(delay)
        except Exception as exc:  # WatchCutOff, Expired, or an unexpected failure: the consumer sees it
            self._failure = exc
            self._readable.set()

    async def _stream(self) -> bool:
        """Run one gRPC stream until it must be replaced; True if etcd accepted it (so retry promptly)."""
        created = False
        # wait_for_ready: while etcd is down the call waits for the channel to reconnect instead of spinning.
        call = self._stub.Watch(wait_for_ready=True)
        try:
            skip_upto = self._after
            request = rpc.WatchCreateRequest(
                key=self._key, range_end=self._range_end, start_revision=skip_upto, prev_kv=True
            )
            await call.write(rpc.WatchRequest(create_request=request))
            async for response in call:
                if response.created:
                    created = True
                    self._live_after = response.header.revision
                await self._handle(response, skip_upto)
        except rpc.AioRpcError as exc:
            if exc.code() not in _RESUMABLE:
                raise StoreError(f"etcd watch on {self._key!r} failed: {exc.details()}") from exc
            log.info("etcd watch on %r broke (%s); resuming after %d", self._key, exc.code(), self._after)
        except _RestartStream:
            pass
        finally:
            call.cancel()
        return created

    async def _handle(self, response: Any, skip_upto: int) -> None:
        if response.compact_revision:
            if self._from_now:
                self._after = response.compact_revision
                raise _RestartStream
            raise Expired(
                f"too old resource version: {self._after} ({response.compact_revision})",
                response.compact_revision,
            )
        if response.canceled:
            log.info("etcd canceled the watch on %r (%s); resuming", self._key, response.cancel_reason)
            raise _RestartStream
        for ev in response.events:
            if ev.kv.mod_revision <= skip_upto:
                continue
            event = to_event(ev)
            if len(self._buffer) >= self._queue_size:
                await self._wait_for_space(event)
            self._buffer.append(event)
            self._after = event.revision
            self._from_now = False
        self._readable.set()

    async def _wait_for_space(self, event: Event) -> None:
        if event.revision > self._live_after:
            self._buffer.clear()  # as the other drivers do: what is buffered is moot once it must re-list
            raise WatchCutOff(
                f"watch on {self._key!r} fell more than {self._queue_size} events behind; re-list"
            )
        # Replaying history the consumer asked for: it sets the pace, and etcd holds the rest.
        self._readable.set()
        while len(self._buffer) >= self._queue_size:
            self._space.clear()
            await self._space.wait()
