"""The client's integration tests run against the API server's own test fixture (a real in-process server)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kubelite.client.rest import RestClient
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.apiserver.conftest import apiserver as apiserver


@pytest.fixture
async def client(apiserver: RunningServer) -> AsyncIterator[RestClient]:
    """A client configured only from the kubeconfig the server wrote, as a remote component would be."""
    async with RestClient.from_kubeconfig(apiserver.kubeconfig, user_agent="kubelite-client-tests") as rest:
        yield rest
