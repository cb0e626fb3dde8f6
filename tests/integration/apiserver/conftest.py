"""A real API server for tests: HTTPS on a free 127.0.0.1 port, a temp data dir, the embedded SQLite store.

The server runs on its own event loop in a background thread, so tests may drive it with blocking clients
(the real kubectl through subprocess, the official `kubernetes` Python client) as well as async ones.

    def test_something(apiserver: RunningServer) -> None:
        apiserver.kubectl("get", "ns")                       # CompletedProcess, raises on failure
        core = kubernetes.client.CoreV1Api(apiserver.python_client())
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubelite.apiserver.resource import ApiResource
from kubelite.apiserver.server import ApiServer, ApiServerConfig, run
from kubelite.store import Store, open_store

KUBECTL = shutil.which("kubectl")


@dataclass
class RunningServer:
    url: str
    kubeconfig: Path
    token: str
    ca_cert: Path
    data_dir: Path
    cache_dir: Path
    handle: ApiServer
    loop: asyncio.AbstractEventLoop
    _clients: list[Any] = field(default_factory=list)

    def kubectl_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env.update(KUBECONFIG=str(self.kubeconfig), KUBECACHEDIR=str(self.cache_dir), HOME=str(self.data_dir))
        return env

    def kubectl(
        self, *args: str, input: str | None = None, timeout: float = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        if KUBECTL is None:
            pytest.skip("kubectl is not installed")
        proc = subprocess.run(
            [KUBECTL, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.kubectl_env(),
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def kubectl_popen(self, *args: str) -> subprocess.Popen[str]:
        if KUBECTL is None:
            pytest.skip("kubectl is not installed")
        return subprocess.Popen(
            [KUBECTL, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.kubectl_env(),
        )

    def python_client(self) -> Any:
        """A `kubernetes.client.ApiClient` configured from the written kubeconfig."""
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(config_file=str(self.kubeconfig), client_configuration=configuration)
        api = client.ApiClient(configuration)
        self._clients.append(api)
        return api

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop (e.g. to touch its store directly)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


def start_server(
    data_dir: Path, *, resources: list[ApiResource] | None = None, **config: Any
) -> tuple[RunningServer, threading.Thread]:
    """A server on its own loop and thread; `resources` replaces the served resource table."""
    loop = asyncio.new_event_loop()
    started: Future[ApiServer] = Future()

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            try:
                handle = await run(ApiServerConfig(data_dir=data_dir, port=0, **config), resources=resources)
            except BaseException as exc:
                started.set_exception(exc)
                return
            started.set_result(handle)
            await handle.wait()

        loop.run_until_complete(main())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=serve, name="apiserver", daemon=True)
    thread.start()
    handle = started.result(timeout=30)
    cache = data_dir / "kubectl-cache"
    cache.mkdir(exist_ok=True)
    server = RunningServer(
        url=handle.url,
        kubeconfig=handle.kubeconfig_path,
        token=handle.token,
        ca_cert=handle.ca_cert_path,
        data_dir=data_dir,
        cache_dir=cache,
        handle=handle,
        loop=loop,
    )
    return server, thread


def stop_server(server: RunningServer, thread: threading.Thread) -> None:
    for api in server._clients:
        api.close()
    server.call(server.handle.stop())
    thread.join(timeout=30)


@pytest.fixture
def apiserver(tmp_path: Path) -> Iterator[RunningServer]:
    """A fresh server per test (watch bookmarks every second so tests can see them)."""
    server, thread = start_server(tmp_path / "data", watch_bookmark_interval=1.0)
    try:
        yield server
    finally:
        stop_server(server, thread)


@pytest.fixture(params=["sqlite", "etcd"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An empty store of each driver (the caches' tests read and write it directly)."""
    endpoint = f"sqlite://{tmp_path / 'state.db'}"
    if request.param == "etcd":
        endpoint = request.getfixturevalue("etcd_server").endpoint
    opened = await open_store(endpoint)
    try:
        yield opened
    finally:
        await opened.close()
