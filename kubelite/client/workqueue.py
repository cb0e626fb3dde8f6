"""The controllers' work queue, with client-go's guarantees.

- A key waiting in the queue is there once: adding it again merges (the "dirty" set).
- A key being processed (between `get` and `done`) is never handed to a second worker; adding it meanwhile
  marks it dirty and it is queued again when `done` is called (the "processing" set).
- `add_after` delays an add (the earliest pending time wins); `add_rate_limited` delays by the rate limiter:
  the larger of a per-key exponential backoff (5 ms doubling to 1000 s, reset by `forget`) and a global token
  bucket (10 per second, burst 100), so a storm of failures cannot hammer the API server.

`shutdown()` stops the queue at once: waiting and future `get` calls raise ShutDown and queued keys are
dropped (controllers are level-triggered; whoever runs next lists everything again).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """The queue was shut down."""


class RateLimiter(Protocol):
    def when(self, key: Hashable) -> float:
        """Seconds to wait before `key` is retried (each call counts one more failure)."""
        ...

    def forget(self, key: Hashable) -> None: ...

    def retries(self, key: Hashable) -> int: ...


class ExponentialBackoff:
    """Per key: base, 2*base, 4*base ... capped."""

    def __init__(self, *, base: float = 0.005, cap: float = 1000.0) -> None:
        self.base, self.cap = base, cap
        self._failures: dict[Hashable, int] = {}

    def when(self, key: Hashable) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        if failures >= 64:  # 2**64 * base is past any sane cap; avoids float overflow
            return self.cap
        return min(self.base * 2.0**failures, self.cap)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def retries(self, key: Hashable) -> int:
        return self._failures.get(key, 0)


class TokenBucket:
    """Global: `qps` tokens per second, at most `burst` saved. Each call takes a token, borrowing from the
    future when none is left, and returns how long until that token exists."""

    def __init__(self, *, qps: float = 10.0, burst: int = 100, clock: Callable[[], float] = time.monotonic):
        self.qps, self.burst = qps, burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def when(self, key: Hashable) -> float:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        return max(0.0, -self._tokens / self.qps)

    def forget(self, key: Hashable) -> None:
        pass

    def retries(self, key: Hashable) -> int:
        return 0


class MaxOf:
    """The longest delay any of the limiters asks for."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters

    def when(self, key: Hashable) -> float:
        return max(limiter.when(key) for limiter in self.limiters)

    def forget(self, key: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(key)

    def retries(self, key: Hashable) -> int:
        return max(limiter.retries(key) for limiter in self.limiters)


def default_rate_limiter() -> RateLimiter:
    return MaxOf(ExponentialBackoff(), TokenBucket())


class WorkQueue(Generic[K]):
    def __init__(self, *, rate_limiter: RateLimiter | None = None) -> None:
        self.rate_limiter = rate_limiter or default_rate_limiter()
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._wakeup = asyncio.Event()
        self._shutting_down = False

    def add(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return  # queued again by done()
        self._queue.append(key)
        self._wakeup.set()

    def add_after(self, key: K, delay: float) -> None:
        """Add `key` after `delay` seconds. If it is already waiting, the earlier time wins."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        waiting = self._timers.get(key)
        if waiting is not None:
            if waiting.when() <= loop.time() + delay:
                return
            waiting.cancel()
        self._timers[key] = loop.call_later(delay, self._timer_fired, key)

    def _timer_fired(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: K) -> None:
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: K) -> None:
        """Stop tracking `key`'s failures (it succeeded, or will not be retried)."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        return self.rate_limiter.retries(key)

    async def get(self) -> K:
        """The next key; the caller owns it until `done(key)`. Raises ShutDown once the queue shut down."""
        while True:
            if self._shutting_down:
                raise ShutDown
            if self._queue:
                key = self._queue.popleft()
                self._dirty.discard(key)
                self._processing.add(key)
                return key
            self._wakeup.clear()
            await self._wakeup.wait()

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty and not self._shutting_down:
            self._queue.append(key)
            self._wakeup.set()

    def shutdown(self) -> None:
        self._shutting_down = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._queue.clear()
        self._dirty.clear()
        self._wakeup.set()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def __len__(self) -> int:
        """Keys waiting to be handed out (not counting delayed or in-process ones)."""
        return len(self._queue)
