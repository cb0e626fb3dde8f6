"""The channel.k8s.io framing and Status messages, and CRI log line handling."""

from __future__ import annotations

import datetime
from pathlib import Path

import orjson

from kubelite.agent.server import channels, logs


def test_channel_frames_and_exit_statuses() -> None:
    assert channels.frame(channels.STDERR, b"x") == b"\x02x"
    assert channels.split(b"\x01out") == (1, b"out") and channels.split(b"") == (-1, b"")
    assert orjson.loads(channels.exit_status(0)) == {"metadata": {}, "status": "Success"}
    failed = orjson.loads(channels.exit_status(3))
    assert failed["reason"] == "NonZeroExitCode"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


def test_rfc3339_nano_times() -> None:
    parsed = logs.parse_time("2016-10-06T00:17:09.669794202Z")
    assert parsed == datetime.datetime(2016, 10, 6, 0, 17, 9, 669794, tzinfo=datetime.UTC)
    assert logs.parse_time("2016-10-06T00:17:09Z").second == 9
    # Printed as the kubelet does: UTC, nine digits, Z (conmon writes +00:00).
    assert logs.format_time(b"2026-11-25T22:45:15.53667641+00:00") == b"2026-11-25T22:45:15.536676410Z"
    assert logs.format_time(b"2026-01-01T12:00:00.25+02:00") == b"2026-01-01T10:00:00.250000000Z"


async def test_partial_lines_join_and_options_apply(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(
        b"2020-01-01T00:00:00Z stdout P a\n2020-01-01T00:00:00.5Z stdout F b\n"
        b"2020-01-01T00:00:01Z stderr F \n2020-01-01T00:00:02Z stdout F last\n"
    )

    async def running() -> bool:
        return False

    async def read(opts: logs.LogOptions) -> bytes:
        return b"".join([line async for line in logs.lines(path, opts, running)])

    assert await read(logs.LogOptions()) == b"ab\n\nlast\n"
    assert (
        await read(logs.LogOptions(tail_lines=1, timestamps=True)) == b"2020-01-01T00:00:02.000000000Z last\n"
    )
    assert await read(logs.LogOptions(tail_lines=0)) == b""
    since = datetime.datetime(2020, 1, 1, 0, 0, 1, tzinfo=datetime.UTC)
    assert await read(logs.LogOptions(since=since)) == b"\nlast\n"
    assert await read(logs.LogOptions(limit_bytes=4)) == b"ab\n\n"
    assert await read(logs.LogOptions(follow=True)) == b"ab\n\nlast\n"  # the container has exited: ends
