"""Informer logic against a scripted fake API: list, watch, resume, re-list on 410, handlers, sharing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot, by_label
from kubelite.client.informer import Backoff, Informer, InformerFactory

CONFIGMAPS = paths.resource("", "v1", "configmaps")
PODS = paths.resource("", "v1", "pods")


def cm(name: str, rv: int, **labels: str) -> dict[str, Any]:
    return {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "ns", "resourceVersion": str(rv), "labels": labels},
    }


def expired() -> errors.ApiError:
    return errors.from_status(410, {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"})


Step = tuple[str, dict[str, Any]] | BaseException


class FakeWatch:
    """One scripted watch session. ("BOOKMARK", {"rv": n}) moves the resourceVersion like a bookmark; an
    exception is raised where it stands; ("END", {}) ends the stream; past the script the stream idles."""

    def __init__(self, steps: list[Step], resource_version: str) -> None:
        self.steps = list(steps)
        self.resource_version = resource_version

    async def __aenter__(self) -> FakeWatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __aiter__(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        return self._events()

    async def _events(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        while self.steps:
            step = self.steps.pop(0)
            await asyncio.sleep(0)
            if isinstance(step, BaseException):
                raise step
            kind, obj = step
            if kind == "END":
                return
            if kind == "BOOKMARK":
                self.resource_version = str(obj["rv"])
                continue
            self.resource_version = obj["metadata"]["resourceVersion"]
            yield kind, obj
        await asyncio.Event().wait()  # an idle stream


class FakeApi:
    def __init__(self) -> None:
        self.lists: list[tuple[list[dict[str, Any]], int] | BaseException] = []
        self.sessions: list[list[Step]] = []
        self.list_calls = 0
        self.watch_versions: list[str] = []

    async def list_all(self, res: Any, **kwargs: Any) -> dict[str, Any]:
        self.list_calls += 1
        result = self.lists.pop(0)
        if isinstance(result, BaseException):
            raise result
        items, rv = result
        return {"metadata": {"resourceVersion": str(rv)}, "items": items}

    def watch(self, res: Any, *, resource_version: str | None = None, **kwargs: Any) -> FakeWatch:
        self.watch_versions.append(resource_version or "")
        return FakeWatch(self.sessions.pop(0) if self.sessions else [], resource_version or "")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []

    def add(self, obj: Snapshot) -> None:
        self.seen.append(("add", obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))

    def update(self, old: Snapshot, new: Snapshot) -> None:
        rvs = (old["metadata"]["resourceVersion"], new["metadata"]["resourceVersion"])
        self.seen.append(("update", new["metadata"]["name"], *rvs))

    def delete(self, obj: Snapshot) -> None:
        self.seen.append(("delete", obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))


def informer_with(api: FakeApi, **kwargs: Any) -> tuple[Informer, Recorder]:
    informer = Informer(api, CONFIGMAPS, retry_backoff=Backoff(initial=0.001, cap=0.002), **kwargs)
    recorder = Recorder()
    informer.add_handlers(on_add=recorder.add, on_update=recorder.update, on_delete=recorder.delete)
    return informer, recorder


@contextlib.asynccontextmanager
async def running(informer: Informer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(informer.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


async def test_list_then_watch_feeds_cache_indexes_and_handlers() -> None:
    api = FakeApi()
    api.lists = [([cm("a", 5, app="web"), cm("b", 6)], 10)]
    api.sessions = [
        [
            ("MODIFIED", cm("a", 11, app="db")),
            ("ADDED", cm("c", 12, app="web")),
            ("DELETED", cm("b", 13)),
            ("DELETED", cm("never-seen", 14)),
            ("BOOKMARK", {"rv": 20}),
            ("END", {}),
        ]
    ]
    informer, recorder = informer_with(api, indexers={"label": by_label})
    assert not informer.has_synced()
    async with running(informer):
        await asyncio.wait_for(informer.synced.wait(), 2)
        await until(lambda: len(api.watch_versions) == 2)
    assert api.watch_versions == ["10", "20"]  # resumed after the bookmark, no second list
    assert api.list_calls == 1 and informer.last_sync_resource_version == "10"
    assert recorder.seen == [
        ("add", "a", "5"),
        ("add", "b", "6"),
        ("update", "a", "5", "11"),
        ("add", "c", "12"),
        ("delete", "b", "13"),  # the final state; never-seen is not reported
    ]
    assert informer.cache.keys() == ["ns/a", "ns/c"]
    assert [o["metadata"]["name"] for o in informer.cache.by_index("label", "app=web")] == ["c"]


async def test_expired_watch_relists_and_reports_the_difference() -> None:
    api = FakeApi()
    api.lists = [
        ([cm("keep", 1), cm("change", 2), cm("vanish", 3)], 3),
        ([cm("keep", 1), cm("change", 7), cm("new", 8)], 9),
    ]
    api.sessions = [[expired()]]
    informer, recorder = informer_with(api)
    async with running(informer):
        await until(lambda: api.list_calls == 2 and len(api.watch_versions) == 2)
    assert api.watch_versions == ["3", "9"]
    assert informer.last_sync_resource_version == "9"
    assert recorder.seen[3:] == [
        ("delete", "vanish", "3"),
        ("update", "change", "2", "7"),
        ("add", "new", "8"),
    ]
    assert informer.cache.keys() == ["ns/change", "ns/keep", "ns/new"]


async def test_broken_connections_resume_the_watch_refusals_relist(caplog: pytest.LogCaptureFixture) -> None:
    api = FakeApi()
    api.lists = [errors.TransportError("refused"), ([cm("a", 1)], 4), ([cm("a", 1), cm("b", 6)], 6)]
    api.sessions = [
        [("ADDED", cm("b", 5)), errors.TransportError("connection reset")],
        [errors.from_status(500, None)],
    ]
    informer, recorder = informer_with(api)
    with caplog.at_level(logging.WARNING):
        async with running(informer):
            await until(lambda: len(api.watch_versions) == 3)
    assert api.list_calls == 3  # the refused list was retried, and the refused watch started over
    assert api.watch_versions == ["4", "5", "6"]  # the reset one resumed where it was
    assert recorder.seen == [("add", "a", "1"), ("add", "b", "5"), ("update", "b", "5", "6")]
    assert caplog.text.count("retrying") == 3


async def test_watches_that_end_at_once_back_off(caplog: pytest.LogCaptureFixture) -> None:
    api = FakeApi()
    api.lists = [([], 4)]
    api.sessions = [[("END", {})], [("END", {})]]
    informer, _ = informer_with(api)
    with caplog.at_level(logging.WARNING):
        async with running(informer):
            await until(lambda: len(api.watch_versions) == 3)
    assert api.list_calls == 1 and api.watch_versions == ["4", "4", "4"]
    assert caplog.text.count("the watch ended at once") == 2


async def test_late_handlers_get_the_cache_replayed_and_bad_handlers_are_contained(
    caplog: pytest.LogCaptureFixture,
) -> None:
    informer, first = informer_with(FakeApi())

    def broken(obj: Snapshot) -> None:
        raise RuntimeError("handler bug")

    informer.add_handlers(on_add=broken)
    informer.replace([cm("a", 1), cm("b", 2)], "2")
    late = Recorder()
    informer.add_handlers(on_add=late.add, on_delete=late.delete)
    assert late.seen == [("add", "a", "1"), ("add", "b", "2")]
    informer.apply_event("DELETED", cm("a", 3))
    assert late.seen[-1] == ("delete", "a", "3") and first.seen[-1] == ("delete", "a", "3")
    assert "handler bug" in caplog.text and informer.has_synced()


async def test_factory_shares_informers_and_runs_late_ones() -> None:
    api = FakeApi()
    api.lists = [([cm("a", 1)], 1), ([], 2)]
    factory = InformerFactory(api)
    first = factory.informer(CONFIGMAPS, namespace="ns")
    assert factory.informer(CONFIGMAPS, namespace="ns") is first
    assert factory.informer(CONFIGMAPS) is not first
    assert not await factory.wait_for_sync(within=0.01)
    task = asyncio.create_task(factory.run())
    try:
        assert await factory.wait_for_sync(within=2)
        late = factory.informer(PODS)
        api.lists.append(([], 3))
        await asyncio.wait_for(late.synced.wait(), 2)
        assert api.list_calls == 3
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_drop_managed_fields_keeps_them_out_of_the_cache_and_the_handlers() -> None:
    def managed(name: str, rv: int) -> dict[str, Any]:
        obj = cm(name, rv)
        obj["metadata"]["managedFields"] = [{"manager": "kubectl", "operation": "Update", "fieldsV1": {}}]
        return obj

    api = FakeApi()
    api.lists = [([managed("a", 1)], 1)]
    api.sessions = [[("MODIFIED", managed("a", 2)), ("ADDED", managed("b", 3)), ("DELETED", managed("b", 4))]]
    informer = Informer(api, CONFIGMAPS, drop_managed_fields=True)
    seen: list[Snapshot] = []
    informer.add_handlers(
        on_add=seen.append, on_update=lambda _, new: seen.append(new), on_delete=seen.append
    )
    async with running(informer):
        await until(lambda: len(seen) == 4)
    assert [o["metadata"]["resourceVersion"] for o in seen] == ["1", "2", "3", "4"]
    assert not any("managedFields" in o["metadata"] for o in seen)
    assert informer.cache.get("ns/a") == cm("a", 2)

    kept = Informer(FakeApi(), CONFIGMAPS)
    kept.apply_event("ADDED", managed("c", 5))
    assert kept.cache.get("ns/c") == managed("c", 5)  # by default the cache holds what the server sent
