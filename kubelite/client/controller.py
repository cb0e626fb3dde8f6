"""The controller runner: informer events become keys on a work queue, N workers reconcile them.

A controller is one level-triggered `async def reconcile(key) -> None`: read the current state (from informer
caches), converge, return. The runner decides what happens next from how it ended:

- returned: the key is forgotten (its backoff resets);
- raised NotFound: the object is gone, nothing to retry;
- raised RequeueAfter(seconds): look again later without counting a failure (e.g. a schedule);
- raised PermanentError: logged, not retried until the object changes again (e.g. an invalid spec);
- raised anything else: retried with the queue's rate limit.

    controller = Controller("replicaset", reconcile, workers=2)
    controller.watch(factory.informer(REPLICASETS))
    controller.watch(factory.informer(PODS), keys=owner_keys("ReplicaSet"))
    await controller.run()   # until cancelled
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from kubelite.client import errors
from kubelite.client.cache import Snapshot, object_key
from kubelite.client.informer import Informer
from kubelite.client.workqueue import ShutDown, WorkQueue

log = logging.getLogger(__name__)

Reconcile = Callable[[str], Awaitable[None]]
KeyFunc = Callable[[Snapshot], Iterable[str]]


class PermanentError(Exception):
    """Retrying cannot help; wait for the object to change."""


class RequeueAfter(Exception):
    """Reconcile again after `delay` seconds; not a failure."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"requeue after {delay}s")
        self.delay = delay


def own_key(obj: Snapshot) -> Iterable[str]:
    return (object_key(obj),)


def owner_keys(kind: str) -> KeyFunc:
    """Keys of an object's controlling owner of `kind` (same namespace): child events wake the parent."""

    def keys(obj: Snapshot) -> Iterable[str]:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace")
        for ref in meta.get("ownerReferences") or ():
            if ref.get("kind") == kind and ref.get("controller"):
                yield f"{namespace}/{ref['name']}" if namespace else str(ref["name"])

    return keys


class Controller:
    def __init__(
        self, name: str, reconcile: Reconcile, *, workers: int = 1, queue: WorkQueue[str] | None = None
    ) -> None:
        self.name = name
        self.reconcile = reconcile
        self.workers = workers
        self.queue: WorkQueue[str] = queue or WorkQueue()
        self._informers: list[Informer] = []

    def watch(self, informer: Informer, *, keys: KeyFunc = own_key) -> None:
        """Enqueue `keys(obj)` for every add, update (old and new object) and delete the informer sees."""

        def enqueue(*objs: Snapshot) -> None:
            for obj in objs:
                for key in keys(obj):
                    self.queue.add(key)

        informer.add_handlers(on_add=enqueue, on_update=enqueue, on_delete=enqueue)
        self._informers.append(informer)

    async def run(self) -> None:
        """Wait until every watched informer has listed, then work until cancelled; the queue is shut down
        on the way out."""
        try:
            for informer in self._informers:
                await informer.synced.wait()
            log.info("%s controller: caches synced, starting %d workers", self.name, self.workers)
            async with asyncio.TaskGroup() as group:
                for i in range(self.workers):
                    group.create_task(self._work(), name=f"{self.name} worker {i}")
        finally:
            self.queue.shutdown()

    async def _work(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.process(key)
            finally:
                self.queue.done(key)

    async def process(self, key: str) -> None:
        """Reconcile one key and decide its fate (see the module docstring)."""
        try:
            await self.reconcile(key)
        except errors.NotFound:
            self.queue.forget(key)
        except RequeueAfter as request:
            self.queue.forget(key)
            self.queue.add_after(key, request.delay)
        except PermanentError as exc:
            self.queue.forget(key)
            log.warning("%s controller: %s: %s (not retrying)", self.name, key, exc)
        except Exception as exc:
            retries = self.queue.num_requeues(key)
            log.warning("%s controller: %s failed (retry %d): %r", self.name, key, retries + 1, exc)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)
