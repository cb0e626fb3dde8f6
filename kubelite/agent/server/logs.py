"""Serving CRI-format container logs: `<RFC3339Nano> <stdout|stderr> <P|F> <text>` lines as the monitor
writes them; partial (P) records are joined with what follows into one line. Follow mode tails the file
(polling; it notices the monitor's rotation by inode or shrinking size) until the container has exited."""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

_POLL = 0.1


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    tail_lines: int | None = None
    since: datetime.datetime | None = None
    timestamps: bool = False
    limit_bytes: int | None = None


def parse_time(text: str) -> datetime.datetime:
    """RFC 3339 with up to nanoseconds (Python keeps microseconds)."""
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    return datetime.datetime.fromisoformat(text)


def format_time(raw: bytes) -> bytes:
    """A record's time as the kubelet prints it: UTC, nine fractional digits, `Z` (RFC3339NanoFixed)."""
    text = raw.decode()
    head, _, rest = text.partition(".")
    digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
    zone = rest[len(digits) :] if rest else text[19:]
    if zone not in ("Z", "+00:00"):  # another offset: convert (sub-microsecond digits are lost)
        utc = parse_time(text).astimezone(datetime.UTC)
        head, digits = utc.strftime("%Y-%m-%dT%H:%M:%S"), f"{utc.microsecond:06d}"
    return f"{head[:19]}.{digits[:9].ljust(9, '0')}Z".encode()


class _Joiner:
    """Turns raw CRI records into whole lines `(timestamp, text-with-newline)`."""

    def __init__(self) -> None:
        self._rest = b""
        self._partial: tuple[bytes, bytes] | None = None

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        lines = (self._rest + chunk).split(b"\n")
        self._rest = lines.pop()
        out = []
        for raw in lines:
            fields = raw.split(b" ", 3)
            if len(fields) < 3:
                continue
            ts, tag, text = fields[0], fields[2], fields[3] if len(fields) == 4 else b""
            if self._partial is not None:
                ts, text = self._partial[0], self._partial[1] + text
            if tag == b"P":
                self._partial = (ts, text)
                continue
            self._partial = None
            out.append((ts, text + b"\n"))
        return out


def _select(lines: list[tuple[bytes, bytes]], opts: LogOptions) -> list[tuple[bytes, bytes]]:
    if opts.since is not None:
        since = opts.since
        lines = [line for line in lines if parse_time(line[0].decode()) >= since]
    if opts.tail_lines is not None:
        lines = lines[-opts.tail_lines :] if opts.tail_lines > 0 else []
    return lines


def _read_from(path: Path, offset: int) -> tuple[bytes, int, int]:
    """New bytes from `offset` and the file's inode; starts over when the file was replaced or truncated."""
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            start = offset if offset <= st.st_size else 0
            f.seek(start)
            chunk = f.read()
            return chunk, st.st_ino, start + len(chunk)
    except FileNotFoundError:
        return b"", 0, 0


async def lines(path: Path, opts: LogOptions, running: Callable[[], Awaitable[bool]]) -> AsyncIterator[bytes]:
    """The log's lines as the client asked for them, within limitBytes."""
    budget = opts.limit_bytes
    joiner = _Joiner()
    chunk, inode, offset = await asyncio.to_thread(_read_from, path, 0)
    batch = _select(joiner.feed(chunk), opts)
    while True:
        for ts, text in batch:
            out = format_time(ts) + b" " + text if opts.timestamps else text
            if budget is not None:
                out, budget = out[:budget], budget - len(out)
            yield out
            if budget is not None and budget <= 0:
                return
        if not opts.follow:
            return
        alive = await running()
        chunk, new_inode, size = await asyncio.to_thread(_read_from, path, offset)
        if new_inode != inode:  # rotated: read the new file from its start
            chunk, inode, size = await asyncio.to_thread(_read_from, path, 0)
        offset = size
        batch = joiner.feed(chunk)
        if opts.since is not None:
            batch = _select(batch, LogOptions(since=opts.since))
        if not batch and not alive:
            return
        if not batch:
            await asyncio.sleep(_POLL)
