"""Event recording against a real API server: similar events combined, spam from one object cut off."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from kubelite.client import paths
from kubelite.client.eventcache import COMBINED_PREFIX
from kubelite.client.events import WARNING, EventRecorder
from kubelite.client.rest import RestClient
from tests.integration.apiserver.conftest import RunningServer

CONFIGMAPS = paths.resource("", "v1", "configmaps")


async def record_all(client: RestClient, calls: list[tuple[dict[str, Any], str, str]]) -> None:
    recorder = EventRecorder(client, component="kubelite-events-test")
    writer = asyncio.create_task(recorder.run())
    try:
        for subject, reason, message in calls:
            recorder.record(subject, reason=reason, message=message, event_type=WARNING)
        await asyncio.wait_for(recorder.flush(), 30)
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer


def ours(server: RunningServer, name: str) -> list[dict[str, Any]]:
    listed = json.loads(server.kubectl("get", "events", "-n", "default", "-o", "json").stdout)
    return [
        e
        for e in listed["items"]
        if e["source"].get("component") == "kubelite-events-test" and e["involvedObject"]["name"] == name
    ]


async def test_similar_events_combine_and_one_object_cannot_flood(
    apiserver: RunningServer, client: RestClient
) -> None:
    noisy = await client.create(CONFIGMAPS, {"metadata": {"name": "noisy", "namespace": "default"}})
    flood = await client.create(CONFIGMAPS, {"metadata": {"name": "flood", "namespace": "default"}})
    calls = [(noisy, "Invalid", f"key k{i} is invalid") for i in range(15)]
    calls += [(flood, "Again", "the same again")] * 40
    await record_all(client, calls)

    noisy_events = ours(apiserver, "noisy")
    combined = [e for e in noisy_events if e["message"].startswith(COMBINED_PREFIX)]
    assert len(noisy_events) == 10 and len(combined) == 1  # nine as they came, then one for the rest
    assert combined[0]["message"] == COMBINED_PREFIX + "key k14 is invalid"
    assert combined[0]["count"] == 6
    [flooded] = ours(apiserver, "flood")
    assert flooded["count"] == 25  # the token bucket's burst; the rest were dropped
