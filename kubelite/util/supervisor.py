"""One supervisor for the long-running tasks of a process.

If any task ends (returns or raises) the whole supervisor stops: a half-running control plane is worse
than a stopped one. Shutdown cancels every task and waits a bounded time for them to finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Supervisor:
    def __init__(self, *, shutdown_timeout: float = 10.0) -> None:
        self._tasks: dict[asyncio.Task[Any], str] = {}
        self._shutdown_timeout = shutdown_timeout
        self._stopping = asyncio.Event()
        self.failure: BaseException | None = None

    def start(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks[task] = name
        task.add_done_callback(self._on_done)
        return task

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        if self._stopping.is_set():
            return
        if not task.cancelled() and task.exception() is not None:
            self.failure = task.exception()
            log.error("%s failed: %s", self._tasks[task], self.failure, exc_info=self.failure)
        else:
            log.info("%s ended; stopping", self._tasks[task])
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()

    async def wait(self) -> None:
        """Wait until a task ends or stop() is called, then shut every task down."""
        await self._stopping.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        self._stopping.set()
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            _, still = await asyncio.wait(pending, timeout=self._shutdown_timeout)
            for task in still:
                log.warning("%s did not stop within %.0fs", self._tasks[task], self._shutdown_timeout)
