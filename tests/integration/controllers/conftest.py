"""Workload controller tests: the API server fixture plus in-process controllers and fake nodes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.apiserver.conftest import RunningServer
from tests.integration.apiserver.conftest import apiserver as apiserver
from tests.integration.controllers.workloads import running_cluster


@pytest.fixture
def cluster(apiserver: RunningServer) -> Iterator[RunningServer]:
    with running_cluster(apiserver, {"replicaset", "replicationcontroller", "deployment"}):
        yield apiserver
