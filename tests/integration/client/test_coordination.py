"""Leader election and event recording against the real API server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

from kubelite.client import paths
from kubelite.client.events import WARNING, EventRecorder
from kubelite.client.leaderelection import LeaderElectionConfig, LeaderElector, LeaseLock
from kubelite.client.rest import RestClient
from tests.integration.apiserver.conftest import RunningServer

CONFIGMAPS = paths.resource("", "v1", "configmaps")
LEASES = paths.resource("coordination.k8s.io", "v1", "leases")
FAST = LeaderElectionConfig(lease_duration=2, renew_deadline=1.5, retry_period=0.2)


def elector(client: RestClient, identity: str, *, release: bool = True) -> LeaderElector:
    lock = LeaseLock(client, namespace="kube-system", name="controllers")
    return LeaderElector(lock, identity=identity, config=dataclasses.replace(FAST, release_on_cancel=release))


async def forever() -> None:
    await asyncio.Event().wait()


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def until_one_leads(*electors: LeaderElector) -> LeaderElector:
    for _ in range(100):
        leaders = [e for e in electors if e.leading]
        if leaders:
            return leaders[0]
        await asyncio.sleep(0.05)
    raise AssertionError("nobody became leader")


async def holder(client: RestClient) -> str:
    lease = await client.get(LEASES, "controllers", namespace="kube-system")
    return str(lease["spec"]["holderIdentity"])


async def test_exactly_one_leads_and_the_other_takes_over_when_it_stops(client: RestClient) -> None:
    working: set[str] = set()
    overlaps = 0

    def work_for(name: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def lead() -> None:
            nonlocal overlaps
            working.add(name)
            try:
                while True:
                    overlaps += len(working) > 1
                    await asyncio.sleep(0.02)
            finally:
                working.discard(name)

        return lead

    a, b = elector(client, "a"), elector(client, "b")
    tasks = {e.identity: asyncio.create_task(e.run(work_for(e.identity))) for e in (a, b)}
    try:
        first = await until_one_leads(a, b)
        second = b if first is a else a
        label = {"metadata": {"labels": {"team": "control-plane"}}}
        await client.patch(LEASES, "controllers", label, namespace="kube-system")
        await asyncio.sleep(1.0)  # several renewals: the other keeps waiting
        assert first.leading and not second.leading and working == {first.identity}
        lease = await client.get(LEASES, "controllers", namespace="kube-system")
        assert lease["spec"]["holderIdentity"] == first.identity
        assert lease["metadata"]["labels"] == {"team": "control-plane"}  # renewals keep others' metadata

        started = time.monotonic()
        await stop(tasks[first.identity])  # a clean shutdown releases the lease...
        assert await until_one_leads(second) is second
        assert time.monotonic() - started < 1.5  # ... so the successor need not wait for it to expire
        await asyncio.sleep(0.1)
        assert working == {second.identity} and await holder(client) == second.identity
        assert overlaps == 0
    finally:
        for task in tasks.values():
            await stop(task)
    assert await holder(client) == ""  # released on the way out


async def test_a_vanished_leader_is_replaced_once_its_lease_expires(client: RestClient) -> None:
    crashed = elector(client, "crashed", release=False)
    crashed_task = asyncio.create_task(crashed.run(forever))
    await until_one_leads(crashed)
    successor = elector(client, "successor")
    successor_task = asyncio.create_task(successor.run(forever))
    try:
        await asyncio.sleep(0.5)
        assert not successor.leading and successor.leader == "crashed"
        started = time.monotonic()
        await stop(crashed_task)  # stops renewing, no release: as if the process died
        await until_one_leads(successor)
        waited = time.monotonic() - started
        assert FAST.lease_duration - FAST.retry_period * 1.2 <= waited < FAST.lease_duration + 1.5
        lease = await client.get(LEASES, "controllers", namespace="kube-system")
        assert lease["spec"]["holderIdentity"] == "successor" and lease["spec"]["leaseTransitions"] == 1
    finally:
        await stop(successor_task)


async def test_recorded_repeats_show_as_one_event_with_a_count(
    apiserver: RunningServer, client: RestClient
) -> None:
    subject = await client.create(CONFIGMAPS, {"metadata": {"name": "settings", "namespace": "default"}})
    recorder = EventRecorder(client, component="kubelite-test")
    writer = asyncio.create_task(recorder.run())
    try:
        for _ in range(3):
            recorder.record(subject, reason="BadValue", message="key x is not a number", event_type=WARNING)
        recorder.record(subject, reason="Fixed", message="key x is a number now")
        await asyncio.wait_for(recorder.flush(), 10)
    finally:
        await stop(writer)

    listed = json.loads(apiserver.kubectl("get", "events", "-n", "default", "-o", "json").stdout)
    ours = {e["reason"]: e for e in listed["items"] if e["source"].get("component") == "kubelite-test"}
    assert set(ours) == {"BadValue", "Fixed"}
    assert ours["BadValue"]["count"] == 3 and ours["Fixed"]["count"] == 1
    assert ours["BadValue"]["type"] == "Warning"
    assert ours["BadValue"]["involvedObject"]["uid"] == subject["metadata"]["uid"]
    assert ours["BadValue"]["firstTimestamp"] <= ours["BadValue"]["lastTimestamp"]
    columns = "REASON:.reason,COUNT:.count,TYPE:.type,OBJECT:.involvedObject.name"
    listing = apiserver.kubectl("get", "events", "-n", "default", "-o", f"custom-columns={columns}").stdout
    rows = {row.split()[0]: row.split()[1:] for row in listing.splitlines()[1:]}
    assert rows == {"BadValue": ["3", "Warning", "settings"], "Fixed": ["1", "Normal", "settings"]}
