"""An informer against the real API server: it follows changes, and re-lists after the server compacts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client import paths
from kubelite.client.cache import Snapshot, by_label
from kubelite.client.informer import Backoff, Informer, InformerFactory
from kubelite.client.rest import RestClient
from tests.integration.apiserver.conftest import RunningServer

CONFIGMAPS = paths.resource("", "v1", "configmaps")
SECRETS = paths.resource("", "v1", "secrets")
NS = "default"


def configmap(name: str, value: str = "1", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": NS, "labels": labels}, "data": {"v": value}}


class Seen:
    """What the handlers were told, with a way to wait for a particular notification."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str]] = []
        self._changed = asyncio.Event()

    def _note(self, kind: str, obj: Snapshot) -> None:
        self.log.append((kind, obj["metadata"]["name"], obj.get("data", {}).get("v", "")))
        self._changed.set()

    def handlers(self) -> dict[str, Any]:
        return {
            "on_add": lambda o: self._note("add", o),
            "on_update": lambda old, new: self._note("update", new),
            "on_delete": lambda o: self._note("delete", o),
        }

    async def wait_for(self, entry: tuple[str, str, str]) -> None:
        async with asyncio.timeout(10):
            while entry not in self.log:
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def running(coro: Any) -> AsyncIterator[None]:
    task = asyncio.create_task(coro)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_informer_follows_changes_and_relists_after_compaction(
    apiserver: RunningServer, client: RestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kubelite.client.informer")
    await client.create(CONFIGMAPS, configmap("a", app="web"))
    # Short watches without bookmarks: its resourceVersion stays at its own last event, so compacting past
    # that forces the next watch to fail with 410 Expired.
    informer = Informer(
        client,
        CONFIGMAPS,
        namespace=NS,
        indexers={"label": by_label},
        min_watch_timeout=1,
        watch_bookmarks=False,
        retry_backoff=Backoff(initial=0.05, cap=0.2),
    )
    seen = Seen()
    informer.add_handlers(**seen.handlers())
    async with running(informer.run()):
        await asyncio.wait_for(informer.synced.wait(), 10)
        assert seen.log == [("add", "a", "1")]
        await client.create(CONFIGMAPS, configmap("b", app="web"))
        await client.patch(CONFIGMAPS, "a", {"data": {"v": "2"}}, namespace=NS)
        await client.delete(CONFIGMAPS, "b", namespace=NS)
        await seen.wait_for(("delete", "b", "1"))
        assert seen.log == [("add", "a", "1"), ("add", "b", "1"), ("update", "a", "2"), ("delete", "b", "1")]
        assert [o["metadata"]["name"] for o in informer.cache.by_index("label", "app=web")] == ["a"]
        synced_at = int(informer.last_sync_resource_version)

        for i in range(5):  # history moves on elsewhere ...
            await client.create(SECRETS, {"metadata": {"name": f"s{i}", "namespace": NS}})
        store = apiserver.handle.store
        compacted = apiserver.call(store.current_revision())
        apiserver.call(store.compact(compacted))  # ... and is compacted away
        for _ in range(200):  # its next watch gets 410 and it lists again
            if int(informer.last_sync_resource_version) >= compacted:
                break
            await asyncio.sleep(0.05)
        assert int(informer.last_sync_resource_version) >= compacted > synced_at
        assert "too old resource version" in caplog.text and "listing again" in caplog.text
        assert len(seen.log) == 4  # the re-list found nothing new to report

        await client.create(CONFIGMAPS, configmap("c"))  # and watching resumed
        await seen.wait_for(("add", "c", "1"))
    assert informer.cache.keys() == [f"{NS}/a", f"{NS}/c"]


async def test_shared_informers_serve_several_subscribers(client: RestClient) -> None:
    factory = InformerFactory(client)
    first, second = Seen(), Seen()
    factory.informer(CONFIGMAPS, namespace=NS).add_handlers(**first.handlers())
    async with running(factory.run()):
        assert await factory.wait_for_sync(within=10)
        await client.create(CONFIGMAPS, configmap("x"))
        await first.wait_for(("add", "x", "1"))
        shared = factory.informer(CONFIGMAPS, namespace=NS)
        shared.add_handlers(**second.handlers())  # a late subscriber sees the current world first
        assert second.log == [("add", "x", "1")]
        await client.patch(CONFIGMAPS, "x", {"data": {"v": "2"}}, namespace=NS)
        await first.wait_for(("update", "x", "2"))
        await second.wait_for(("update", "x", "2"))
