"""A small cluster for workload controller tests: the real API server, the named controllers running
in-process on the server's event loop, and fake nodes (kubelite.agent.fake) that run the pods bound to them.

Pods are bound by spec.nodeName in their templates (no scheduler needed); a pod bound to a node nobody
simulates stays Pending forever, which is how tests make pods that never become ready.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kubelite.agent.fake import FakeAgent, FakeAgentConfig
from kubelite.client import kubeconfig
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.controllers.context import ControllerContext, ManagerConfig
from kubelite.controllers.manager import run_controllers
from tests.integration.apiserver.conftest import RunningServer

NODE = "fake-node-0"


@contextmanager
def running_cluster(server: RunningServer, controllers: set[str], *, nodes: int = 1) -> Iterator[None]:
    async def main() -> None:
        config = kubeconfig.load(server.kubeconfig)
        async with (
            RestClient(config, user_agent="kubelite-controller-manager") as client,
            RestClient(config, user_agent="kubelite-fake-agent", max_connections=48) as agent_client,
        ):
            ctx = ControllerContext(
                client=client,
                informers=InformerFactory(client),
                config=ManagerConfig(kubeconfig=server.kubeconfig),
            )
            agent = FakeAgent(agent_client, FakeAgentConfig(client_config=config, nodes=nodes))
            async with asyncio.TaskGroup() as group:
                group.create_task(run_controllers(ctx, names=controllers))
                group.create_task(agent.run())

    async def start() -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(main())

    task: asyncio.Task[None] = server.call(start())
    try:
        yield
    finally:
        server.loop.call_soon_threadsafe(task.cancel)

        async def stopped() -> None:
            await asyncio.wait([task])

        server.call(stopped())
        if not task.cancelled() and task.exception() is not None:
            raise AssertionError("the in-process controllers or fake nodes failed") from task.exception()


def get_json(server: RunningServer, *args: str) -> Any:
    return json.loads(server.kubectl("get", *args, "-o", "json").stdout)


def wait_for(condition: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def pods(server: RunningServer, selector: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = get_json(server, "pods", "-l", selector)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def running_pods(server: RunningServer, selector: str) -> list[dict[str, Any]]:
    return [p for p in pods(server, selector) if p.get("status", {}).get("phase") == "Running"]
