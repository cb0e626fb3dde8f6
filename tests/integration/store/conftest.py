"""The `store` fixture: every conformance test runs once per driver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.store import Store, open_store


@pytest.fixture(params=["sqlite", "etcd"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        endpoint = f"sqlite://{tmp_path / 'state.db'}"
    else:
        # A fresh etcd server per test keeps revisions and compaction independent between tests.
        etcd = request.getfixturevalue("etcd_server")
        endpoint = etcd.endpoint
    s = await open_store(endpoint)
    try:
        yield s
    finally:
        await s.close()
