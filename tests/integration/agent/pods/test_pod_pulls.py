"""Pulls from a real registry on 127.0.0.1: events, ErrImagePull → ImagePullBackOff, offline fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kubelite.agent.images.registry import RegistryClient
from tests.integration.agent.conftest import PushedImages
from tests.integration.agent.pods.conftest import Agent
from tests.integration.agent.pods.test_pod_loop import app_status, phase


@pytest.fixture
async def pulling(agent: Agent, pushed_images: PushedImages) -> AsyncIterator[Agent]:
    async with RegistryClient(insecure_registries=[pushed_images.registry.host]) as client:
        await agent.stop()
        agent.registry = client
        await agent.start()
        yield agent
        await agent.stop()


def echo(image: str) -> dict:
    return {"name": "app", "image": image, "command": ["sh", "-c", "echo hi"]}


async def test_a_pod_pulls_its_image_and_reports_it(pulling: Agent, pushed_images: PushedImages) -> None:
    image = pushed_images.ref("busybox:latest")
    await pulling.create("pulled", echo(image), restartPolicy="Never")
    pod = await pulling.wait_for("pulled", phase("Succeeded"))
    assert app_status(pod)["image"] == image
    messages = {event["reason"]: event["message"] for event in await pulling.events()}
    assert messages["Pulling"] == f'Pulling image "{image}"'
    assert messages["Pulled"].startswith(f'Successfully pulled image "{image}" in ')


async def test_a_missing_image_backs_off(pulling: Agent, pushed_images: PushedImages) -> None:
    image = pushed_images.ref("missing:1")
    await pulling.create("missing", echo(image), restartPolicy="Never")
    pod = await pulling.wait_for(
        "missing",
        lambda p: app_status(p).get("state", {}).get("waiting", {}).get("reason") == "ImagePullBackOff",
    )
    message = app_status(pod)["state"]["waiting"]["message"]
    assert message.startswith(
        f'Back-off pulling image "{image}": ErrImagePull: Failed to pull image "{image}"'
    )
    errors = [e["message"] for e in await pulling.events() if e["reason"] == "Failed"]
    assert "Error: ErrImagePull" in errors and "Error: ImagePullBackOff" in errors
    assert pod["status"]["phase"] == "Pending"


async def test_an_unreachable_registry_falls_back_to_the_local_copy(
    pulling: Agent, pushed_images: PushedImages
) -> None:
    image = pushed_images.ref("busybox:latest")
    await pulling.create("first", echo(image), restartPolicy="Never")
    await pulling.wait_for("first", phase("Succeeded"))
    pushed_images.registry.stop()
    try:
        await pulling.create("second", echo(image), restartPolicy="Never")
        await pulling.wait_for("second", phase("Succeeded"))
    finally:
        pushed_images.registry.start()
    fallbacks = [e for e in await pulling.events() if e["reason"] == "PullFallback"]
    assert fallbacks and fallbacks[0]["type"] == "Warning"
    assert fallbacks[0]["involvedObject"]["name"] == "second"
