"""In-memory fan-out of committed events to watchers.

A driver publishes each commit's events here (on the event loop, in revision order). The broadcaster keeps
the most recent ones in a ring buffer, so a watch that starts a little in the past is served from memory;
an older start revision is first caught up from the driver's own history (`ReadEvents`) page by page, and
then joins the live stream at exactly the revision it has reached, so there is no gap or duplicate at the
seam. Every live watcher has a bounded queue: one that falls behind is cut off (WatchCutOff) rather than
ever slowing the publisher down.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from kubelite.store.base import Event, Expired, StoreError, Unavailable, WatchCutOff

# Read when used (not at import), so tests and callers can change them.
WATCH_QUEUE_SIZE = 1000  # per live watcher
RING_SIZE = 4096  # recent events kept in memory for watches that start a little in the past
CATCH_UP_PAGE = 500  # events read from history (or scanned in the ring) per step of a catching-up watch

# (prefix, after, upto, limit) -> the events under prefix with after < revision <= upto, oldest first, at
# most `limit` of them; raises Expired if `after` has been compacted.
ReadEvents = Callable[[str, int, int, int], Awaitable[list[Event]]]


class Subscription:
    """One live watcher's bounded queue, fed synchronously by `Broadcaster.publish`."""

    __slots__ = ("_after", "_cut", "_ended", "_maxsize", "_queue", "_waiter", "prefix")

    def __init__(self, prefix: str, *, after: int, maxsize: int) -> None:
        self.prefix = prefix
        self._after = after  # above the published revision only for a watch that starts in the future
        self._maxsize = maxsize
        self._queue: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._cut = False
        self._ended = False

    def push(self, event: Event) -> bool:
        """Queue the event; False (and cut off) if the queue is full."""
        if event.revision <= self._after:
            return True
        if len(self._queue) >= self._maxsize:
            self._cut = True
            self._queue.clear()
            self._wake()
            return False
        self._queue.append(event)
        self._wake()
        return True

    def end(self) -> None:
        self._ended = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self) -> Event:
        while not self._queue:
            if self._cut:
                raise WatchCutOff(f"watch on {self.prefix!r} fell more than {self._maxsize} events behind")
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()


class Broadcaster:
    def __init__(self, revision: int) -> None:
        self._revision = revision
        self._ring: deque[Event] = deque()
        self._ring_size = RING_SIZE
        # Every event with a revision above the floor is in the ring.
        self._floor = revision
        self._subscribers: dict[str, set[Subscription]] = {}
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.closed = False

    @property
    def revision(self) -> int:
        """The newest published revision."""
        return self._revision

    @property
    def floor(self) -> int:
        return self._floor

    def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            self._ring.append(event)
            key = event.kv.key
            for prefix, subscribers in self._subscribers.items():
                if key.startswith(prefix):
                    for cut in [s for s in subscribers if not s.push(event)]:
                        subscribers.discard(cut)
        self._revision = events[-1].revision
        while len(self._ring) > self._ring_size:
            self._floor = self._ring.popleft().revision
        if self._waiters:
            still = []
            for revision, waiter in self._waiters:
                if revision <= self._revision:
                    if not waiter.done():
                        waiter.set_result(None)
                else:
                    still.append((revision, waiter))
            self._waiters = still

    async def wait_for(self, revision: int, *, max_wait: float) -> bool:
        """Wait until `revision` is published; False if it was not within `max_wait` seconds."""
        if revision <= self._revision:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((revision, waiter))
        try:
            await asyncio.wait_for(waiter, max_wait)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters = [(r, w) for r, w in self._waiters if w is not waiter]

    def ring_after(self, after: int, *, prefix: str, scan: int) -> tuple[list[Event], int]:
        """Events under prefix from the ring with revision > after, looking at no more than `scan`
        events; also returns the revision the scan reached. Requires after >= floor."""
        start = bisect.bisect_right(self._ring, after, key=lambda e: e.revision)
        end = min(start + scan, len(self._ring))
        scanned = [self._ring[i] for i in range(start, end)]
        reached = scanned[-1].revision if scanned else max(after, self._revision)
        return [e for e in scanned if e.kv.key.startswith(prefix)], reached

    def subscribe(self, prefix: str, *, after: int) -> Subscription:
        """A live subscription receiving every event published from now on under prefix (and above
        `after`)."""
        subscription = Subscription(prefix, after=after, maxsize=WATCH_QUEUE_SIZE)
        if self.closed:
            subscription.end()
        else:
            self._subscribers.setdefault(prefix, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.prefix)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.prefix]
        subscription.end()

    def watch(
        self, prefix: str, *, after_revision: int, read_events: ReadEvents, compact_revision: int = 0
    ) -> BroadcastWatch:
        error: StoreError | None = None
        if after_revision < compact_revision:
            error = Expired(
                f"too old resource version: {after_revision} ({compact_revision})", compact_revision
            )
        return BroadcastWatch(
            self, prefix, after_revision=after_revision, read_events=read_events, error=error
        )

    def close(self) -> None:
        """End every live watch (their iteration stops) and refuse new ones."""
        self.closed = True
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.end()
        self._subscribers.clear()


class BroadcastWatch:
    """Implements base.Watch: catch up from history, then from the ring, then go live."""

    def __init__(
        self,
        broadcaster: Broadcaster,
        prefix: str,
        *,
        after_revision: int,
        read_events: ReadEvents,
        error: StoreError | None,
    ) -> None:
        self._broadcaster = broadcaster
        self._prefix = prefix
        self._last = after_revision  # every event up to here is delivered or in _backlog
        self._read_events = read_events
        self._error = error
        self._backlog: deque[Event] = deque()
        self._live: Subscription | None = None
        self._closed = False

    def __aiter__(self) -> BroadcastWatch:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._backlog:
                return self._backlog.popleft()
            if self._live is None and self._broadcaster.closed:
                raise StopAsyncIteration
            if self._error is not None:
                raise self._error
            if self._live is not None:
                return await self._live.next()
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Move _last forward by one page of history or ring, or go live once the ring is exhausted."""
        broadcaster = self._broadcaster
        if self._last < broadcaster.floor:
            upto = broadcaster.revision
            try:
                events = await self._read_events(self._prefix, self._last, upto, CATCH_UP_PAGE)
            except Unavailable:
                if broadcaster.closed:
                    return  # the store closed under us: end quietly, like a live watch does
                raise
            self._backlog.extend(events)
            self._last = events[-1].revision if len(events) == CATCH_UP_PAGE else upto
            return
        events, reached = broadcaster.ring_after(self._last, prefix=self._prefix, scan=CATCH_UP_PAGE)
        self._backlog.extend(events)
        self._last = reached
        if reached >= broadcaster.revision:
            # No await since ring_after: the subscription starts exactly after `reached`.
            self._live = broadcaster.subscribe(self._prefix, after=reached)

    async def close(self) -> None:
        self._closed = True
        if self._live is not None:
            self._broadcaster.unsubscribe(self._live)

