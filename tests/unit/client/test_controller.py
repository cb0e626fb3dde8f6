"""The controller runner: what each way a reconcile ends does to its key, and wiring informers to workers."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.controller import Controller, PermanentError, RequeueAfter, owner_keys
from kubelite.client.informer import Informer
from kubelite.client.workqueue import ExponentialBackoff, WorkQueue

PODS = paths.resource("", "v1", "pods")
REPLICASETS = paths.resource("apps", "v1", "replicasets")


def fast_queue() -> WorkQueue[str]:
    return WorkQueue(rate_limiter=ExponentialBackoff(base=0.001, cap=0.01))


async def test_each_outcome_decides_the_keys_fate() -> None:
    outcomes: dict[str, list[BaseException | None]] = {
        "ok": [None],
        "flaky": [RuntimeError("api down"), RuntimeError("still down"), None],
        "gone": [errors.from_status(404, None)],
        "invalid": [PermanentError("spec.replicas < 0")],
        "scheduled": [RequeueAfter(0.02), None],
    }
    calls: list[str] = []

    async def reconcile(key: str) -> None:
        calls.append(key)
        outcome = outcomes[key].pop(0)
        if outcome is not None:
            raise outcome

    controller = Controller("test", reconcile, queue=fast_queue())
    for key in outcomes:
        await controller.process(key)
    assert controller.queue.num_requeues("flaky") == 1
    assert controller.queue.num_requeues("scheduled") == 0  # a requeue request is not a failure
    assert controller.queue.num_requeues("gone") == 0 and controller.queue.num_requeues("invalid") == 0

    async def drain() -> None:
        while True:
            key = await controller.queue.get()
            await controller.process(key)
            controller.queue.done(key)

    worker = asyncio.create_task(drain())
    await asyncio.sleep(0.2)
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    assert calls.count("flaky") == 3 and calls.count("scheduled") == 2
    assert calls.count("gone") == 1 and calls.count("invalid") == 1 and calls.count("ok") == 1
    assert controller.queue.num_requeues("flaky") == 0  # forgotten after success


def replicaset_owned(name: str, pod: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": pod,
            "namespace": "ns",
            "resourceVersion": "1",
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": name, "uid": "u", "controller": True},
                {"kind": "Other", "name": "x", "uid": "v"},
            ],
        },
    }


async def test_run_waits_for_sync_then_workers_reconcile_keys_from_handlers() -> None:
    done = asyncio.Event()
    seen: list[str] = []
    in_flight = 0
    max_in_flight = 0

    async def reconcile(key: str) -> None:
        nonlocal in_flight, max_in_flight
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        seen.append(key)
        if len(seen) == 2:
            done.set()

    replicasets = Informer(None, REPLICASETS)  # type: ignore[arg-type]
    pods = Informer(None, PODS)  # type: ignore[arg-type]
    controller = Controller("replicaset", reconcile, workers=3, queue=fast_queue())
    controller.watch(replicasets)
    controller.watch(pods, keys=owner_keys("ReplicaSet"))
    task = asyncio.create_task(controller.run())
    replicasets.replace([{"metadata": {"name": "web", "namespace": "ns", "resourceVersion": "1"}}], "1")
    await asyncio.sleep(0.02)
    assert seen == []  # pods not synced yet: no worker runs
    pods.replace([replicaset_owned("web", "p1"), replicaset_owned("db", "p2")], "2")
    await asyncio.wait_for(done.wait(), 2)
    await asyncio.sleep(0.02)
    assert sorted(seen) == ["ns/db", "ns/web"]  # web was queued by both informers before workers began: once
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert controller.queue.shutting_down
    assert max_in_flight >= 2
