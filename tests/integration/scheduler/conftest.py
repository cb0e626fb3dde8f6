"""The scheduler and the fake agent against a real API server, both running in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kubelite.agent.fake import FakeAgent, FakeAgentConfig
from kubelite.client import kubeconfig
from kubelite.client.rest import RestClient
from kubelite.scheduler.run import Scheduler, SchedulerConfig
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.apiserver.conftest import apiserver as apiserver


@dataclass
class Cluster:
    """A client, plus components started with `start_agent` / `start_scheduler` and cancelled at the end."""

    server: RunningServer
    client: RestClient
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    clients: list[RestClient] = field(default_factory=list)

    def _client(self, agent: str) -> RestClient:
        rest = RestClient.from_kubeconfig(self.server.kubeconfig, user_agent=agent)
        self.clients.append(rest)
        return rest

    async def start_agent(self, **options: Any) -> FakeAgent:
        config = FakeAgentConfig(client_config=kubeconfig.load(self.server.kubeconfig), **options)
        agent = FakeAgent(self._client("fake-agent"), config)
        await agent.register()  # nodes exist once this returns
        self.tasks.append(asyncio.create_task(_after_registration(agent)))
        return agent

    def start_scheduler(self, **options: Any) -> Scheduler:
        config = SchedulerConfig(kubeconfig=self.server.kubeconfig, leader_elect=False, **options)
        scheduler = Scheduler(self._client("scheduler"), config)
        self.tasks.append(asyncio.create_task(scheduler.run()))
        return scheduler


async def _after_registration(agent: FakeAgent) -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(agent.informers.run())
        group.create_task(agent.pods.run())


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 20.0, every: float = 0.1) -> Any:
    """The first truthy result of `check()`; fails the test after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(every)


@pytest.fixture
async def cluster(apiserver: RunningServer) -> AsyncIterator[Cluster]:
    client = RestClient.from_kubeconfig(apiserver.kubeconfig, user_agent="scheduler-tests")
    state = Cluster(apiserver, client)
    try:
        yield state
    finally:
        for task in state.tasks:
            task.cancel()
        for task in state.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for rest in [*state.clients, client]:
            await rest.close()
