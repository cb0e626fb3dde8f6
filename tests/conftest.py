"""Fixtures shared across test suites: a real etcd server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.etcd import EtcdServer


@pytest.fixture
def etcd_server(tmp_path: Path) -> Iterator[EtcdServer]:
    """A fresh single-member etcd on free 127.0.0.1 ports, killed by pid and deleted afterwards. Fresh per
    test because revisions and compaction are global to a server: a shared one would couple the tests."""
    with EtcdServer(tmp_path / "etcd") as server:
        yield server
