"""Decoding a watch stream: lines split anywhere, bookmarks absorbed, ERROR raised, connection closed."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from kubelite.client import errors, watch
from kubelite.client.watch import Watch, WatchEvent


class FakeContent:
    def __init__(self, chunks: list[bytes | BaseException]) -> None:
        self.chunks = chunks

    async def readany(self) -> bytes:
        if not self.chunks:
            return b""
        chunk = self.chunks.pop(0)
        if isinstance(chunk, BaseException):
            raise chunk
        return chunk


class FakeTransport:
    aborted = False

    def abort(self) -> None:
        self.aborted = True


class FakeConnection:
    def __init__(self) -> None:
        self.transport = FakeTransport()


class FakeResponse:
    def __init__(self, chunks: list[bytes | BaseException]) -> None:
        self.content = FakeContent(chunks)
        self.connection: FakeConnection | None = FakeConnection()
        self.closed = False

    def close(self) -> None:
        self.closed = True


def line(kind: str, name: str, rv: int) -> bytes:
    obj: dict[str, Any] = {"kind": "ConfigMap", "metadata": {"name": name, "resourceVersion": str(rv)}}
    return orjson.dumps({"type": kind, "object": obj}) + b"\n"


def stream(chunks: list[bytes | BaseException]) -> tuple[Watch, FakeResponse]:
    response = FakeResponse(chunks)

    async def open_stream() -> Any:
        return response

    return Watch(open_stream, resource_version="1"), response


async def test_events_split_across_chunks_and_bookmarks_move_the_version() -> None:
    data = line("ADDED", "a", 2) + b"\n" + line("BOOKMARK", "", 5) + line("MODIFIED", "a", 7)
    cut = [data[:10], data[10:61], data[61:62], data[62:-1]]  # the last event has no trailing newline
    w, response = stream(list(cut))
    seen = []
    async with w:
        async for kind, obj in w:
            seen.append((kind, obj["metadata"]["resourceVersion"], w.resource_version))
    assert seen == [("ADDED", "2", "2"), ("MODIFIED", "7", "7")]
    assert response.closed and isinstance(WatchEvent("ADDED", {}), tuple)


async def test_leaving_a_stream_early_drops_its_connection() -> None:
    w, response = stream([line("ADDED", "a", 2), line("ADDED", "b", 3)])
    connection = response.connection
    assert connection is not None
    async with w:
        async for _ in w:
            break
    assert connection.transport.aborted and response.closed
    with pytest.raises(StopAsyncIteration):
        await anext(w)


async def test_an_error_event_raises_the_mapped_status_and_keeps_the_last_version() -> None:
    expired = {
        "kind": "Status",
        "code": 410,
        "reason": "Expired",
        "message": "too old resource version: 1 (4)",
    }
    w, response = stream([line("ADDED", "a", 3) + orjson.dumps({"type": "ERROR", "object": expired}) + b"\n"])
    async with w:
        assert (await anext(w)).type == "ADDED"
        with pytest.raises(errors.Expired, match="too old"):
            await anext(w)
    assert w.resource_version == "3" and response.closed


async def test_broken_or_garbled_streams_are_transport_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    w, response = stream([line("ADDED", "a", 3)[:20], aiohttp.ClientPayloadError("reset")])
    with pytest.raises(errors.TransportError, match="broke"):
        await anext(w)
    assert response.closed
    w, _ = stream([b"not json\n"])
    with pytest.raises(errors.TransportError, match="malformed"):
        await anext(w)
    monkeypatch.setattr(watch, "MAX_EVENT_BYTES", 64)
    w, _ = stream([b"x" * 50, b"y" * 50])
    with pytest.raises(errors.TransportError, match="larger than"):
        await anext(w)
