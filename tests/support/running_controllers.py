"""Controllers running in-process against a test API server, on an event loop of their own.

Tests drive the cluster with blocking clients (the real kubectl); the controllers must keep working while a
test waits on one, so they run on a background thread's loop, as the API server fixture does.

    with RunningControllers(apiserver.kubeconfig, names={"namespace"}):
        apiserver.kubectl("delete", "namespace", "x")
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.controllers.context import ControllerContext, ManagerConfig
from kubelite.controllers.manager import run_controllers


class RunningControllers:
    def __init__(self, kubeconfig: Path, *, names: set[str], **config: Any) -> None:
        self.config = ManagerConfig(kubeconfig=kubeconfig, **config)
        self.names = names
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._started: Future[None] = Future()
        self._thread = threading.Thread(target=self._serve, name="controllers", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    async def _main(self) -> None:
        kubeconfig = self.config.kubeconfig
        async with RestClient.from_kubeconfig(kubeconfig, user_agent="test-controllers") as client:
            ctx = ControllerContext(client=client, informers=InformerFactory(client), config=self.config)
            self._task = asyncio.create_task(run_controllers(ctx, names=self.names))
            self._started.set_result(None)
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def __enter__(self) -> RunningControllers:
        self._thread.start()
        self._started.result(timeout=10)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        task = self._task
        if task is not None:
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout=15)
        if self._thread.is_alive():
            raise RuntimeError("the controllers did not stop within 15 s")
        if task is not None and task.done() and not task.cancelled() and task.exception() is not None:
            raise RuntimeError("a controller failed") from task.exception()
