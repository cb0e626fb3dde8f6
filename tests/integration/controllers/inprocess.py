"""Controllers built by the test itself (with a fake clock or a short back-off) running on the API server's
event loop, next to fake nodes (kubelite.agent.fake) and, when asked, the real scheduler.

    with running(apiserver, lambda ctx: [JobController(ctx, backoff_base=0.2)]) as started:
        ...   # started.controllers[0] is the JobController
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kubelite.agent.fake import FakeAgent, FakeAgentConfig
from kubelite.client import kubeconfig
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import RestClient
from kubelite.controllers.context import ControllerContext, ManagerConfig
from kubelite.scheduler.run import Scheduler, SchedulerConfig
from tests.integration.apiserver.conftest import RunningServer


@dataclass
class Started:
    controllers: list[Any] = field(default_factory=list)


@contextmanager
def running(
    server: RunningServer,
    build: Callable[[ControllerContext], list[Any]],
    *,
    nodes: int = 1,
    scheduler: bool = False,
) -> Iterator[Started]:
    started = Started()

    async def main() -> None:
        config = kubeconfig.load(server.kubeconfig)
        async with (
            RestClient(config, user_agent="kubelite-controller-manager") as client,
            RestClient(config, user_agent="kubelite-fake-agent") as agent_client,
            RestClient(config, user_agent="kubelite-scheduler") as scheduler_client,
        ):
            ctx = ControllerContext(
                client=client,
                informers=InformerFactory(client),
                config=ManagerConfig(kubeconfig=server.kubeconfig),
            )
            started.controllers = build(ctx)
            agent = FakeAgent(
                agent_client, FakeAgentConfig(client_config=config, nodes=nodes, job_duration=0.2)
            )
            async with asyncio.TaskGroup() as group:
                group.create_task(ctx.informers.run())
                for controller in started.controllers:
                    group.create_task(controller.run())
                for recorder in ctx.recorders.values():
                    group.create_task(recorder.run())
                if nodes:
                    group.create_task(agent.run())
                if scheduler:
                    config_ = SchedulerConfig(kubeconfig=server.kubeconfig, leader_elect=False)
                    group.create_task(Scheduler(scheduler_client, config_).run())

    async def start() -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(main())

    task: asyncio.Task[None] = server.call(start())
    try:
        yield started
    finally:
        server.loop.call_soon_threadsafe(task.cancel)

        async def stopped() -> None:
            await asyncio.wait([task])

        server.call(stopped())
        if not task.cancelled() and task.exception() is not None:
            raise AssertionError("the in-process components failed") from task.exception()


def nudge(server: RunningServer, controller: Any, key: str) -> None:
    """Queue `key` on a running controller now (e.g. after moving its fake clock)."""
    server.loop.call_soon_threadsafe(controller.controller.queue.add, key)
