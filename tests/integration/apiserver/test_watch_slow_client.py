"""A watcher that stops reading is cut off; it never holds up writers or grows memory without bound."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from kubernetes import client

from kubelite.store import broadcast
from tests.integration.apiserver.conftest import RunningServer


def _longrunning(apiserver: RunningServer) -> float:
    text = apiserver.handle.context.metrics.render().decode()
    for line in text.splitlines():
        if line.startswith('apiserver_longrunning_requests{resource="configmaps",verb="WATCH"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_watcher_that_stops_reading_is_cut_off(
    apiserver: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broadcast, "WATCH_QUEUE_SIZE", 8)
    host, port = apiserver.url.removeprefix("https://").rsplit(":", 1)
    raw = socket.create_connection((host, int(port)))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn = apiserver.ssl_context().wrap_socket(raw, server_hostname=host)
    request = (
        "GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\n"
        f"Host: {host}\r\nAuthorization: Bearer {apiserver.token}\r\n\r\n"
    )
    conn.sendall(request.encode())
    try:
        deadline = time.monotonic() + 10
        while _longrunning(apiserver) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _longrunning(apiserver) == 1

        core: Any = client.CoreV1Api(apiserver.python_client())
        payload = "x" * 200_000
        started = time.monotonic()
        for i in range(80):  # ~16 MB of events: far more than the socket buffers hold
            core.create_namespaced_config_map(
                "default", {"metadata": {"name": f"big-{i}"}, "data": {"d": payload}}
            )
        assert time.monotonic() - started < 30  # writers were never held up by the stuck reader

        deadline = time.monotonic() + 20
        while _longrunning(apiserver) > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _longrunning(apiserver) == 0  # the watch was dropped
    finally:
        conn.close()
