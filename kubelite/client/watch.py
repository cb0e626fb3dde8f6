"""A watch stream as an async iterator of (type, object).

The server sends one JSON event per line. BOOKMARK events only move `resource_version` forward (they carry no
object worth handing out); an ERROR event ends the stream by raising the mapped ApiError (a 410 `Expired`
means: list again). `resource_version` is always where a new watch should resume.

    async with client.watch(CONFIGMAPS, namespace="default", resource_version=rv) as events:
        async for kind, obj in events:
            ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, NamedTuple

import aiohttp
import orjson

from kubelite.client import errors

# A line longer than this is not an event any server would send (objects are limited to ~1.5 MB).
MAX_EVENT_BYTES = 16 * 1024 * 1024


class WatchEvent(NamedTuple):
    type: str  # ADDED, MODIFIED or DELETED
    object: dict[str, Any]


class Watch:
    """One watch request. Use it with `async with` so the connection is closed however iteration ends."""

    def __init__(
        self, open_stream: Callable[[], Awaitable[aiohttp.ClientResponse]], *, resource_version: str
    ) -> None:
        self._open_stream = open_stream
        self._response: aiohttp.ClientResponse | None = None
        self._buffer = bytearray()
        self._closed = False
        self.resource_version = resource_version

    async def __aenter__(self) -> Watch:
        await self._ensure_open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchEvent:
        try:
            while True:
                line = await self._next_line()
                if line is None:
                    raise StopAsyncIteration
                event = self._decode(line)
                if event is not None:
                    return event
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._closed = True
        if self._response is None:
            return
        # A stream left mid-way is dropped outright: a graceful TLS close would wait on the busy peer, and
        # the half-closed socket would outlive the client.
        connection = self._response.connection
        if connection is not None and connection.transport is not None:
            connection.transport.abort()
        self._response.close()

    async def _ensure_open(self) -> aiohttp.ClientResponse | None:
        """The response being read; None once closed."""
        if self._response is None and not self._closed:
            self._response = await self._open_stream()
        return None if self._closed else self._response

    def _decode(self, line: bytes) -> WatchEvent | None:
        try:
            event = orjson.loads(line)
            kind, obj = event["type"], event["object"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise errors.TransportError(f"malformed watch event: {line[:200]!r}") from exc
        if kind == "ERROR":
            raise errors.from_status(int(obj.get("code") or 500), obj)
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            self.resource_version = str(version)
        if kind == "BOOKMARK":
            return None
        return WatchEvent(str(kind), obj)

    async def _next_line(self) -> bytes | None:
        """The next non-empty line, or None at the end of the stream."""
        response = await self._ensure_open()
        if response is None:
            return None
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline]).strip()
                del self._buffer[: newline + 1]
                if line:
                    return line
                continue
            if len(self._buffer) > MAX_EVENT_BYTES:
                raise errors.TransportError(f"watch event larger than {MAX_EVENT_BYTES} bytes")
            try:
                chunk = await response.content.readany()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise errors.TransportError(f"watch stream broke: {exc!r}") from exc
            if not chunk:
                rest = bytes(self._buffer).strip()
                self._buffer.clear()
                return rest or None
            self._buffer += chunk
