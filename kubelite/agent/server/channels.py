"""The channel.k8s.io WebSocket framing exec, attach and the Python client's port-forward use: every binary
message starts with its channel byte. Status messages (channel 3, v4+) are metav1.Status JSON."""

from __future__ import annotations

from typing import Any

import orjson

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
V5, V4 = "v5.channel.k8s.io", "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)


def frame(channel: int, payload: bytes) -> bytes:
    return bytes((channel,)) + payload


def split(message: bytes) -> tuple[int, bytes]:
    return (message[0], message[1:]) if message else (-1, b"")


def success() -> bytes:
    return orjson.dumps({"metadata": {}, "status": "Success"})


def exit_status(code: int) -> bytes:
    if code == 0:
        return success()
    status: dict[str, Any] = {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command, exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }
    return orjson.dumps(status)


def failure(message: str) -> bytes:
    return orjson.dumps({"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError"})
