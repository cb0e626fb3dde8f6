"""One kubelite process per data dir: the lock names its holder and is free again once released."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubelite.util.datadirlock import LOCK_FILE, DataDirInUse, hold


def test_a_held_data_dir_is_refused_with_the_holders_pid_and_free_after(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with hold(data_dir):
        assert (data_dir / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        with pytest.raises(DataDirInUse, match=f"kubelite process {os.getpid()} is still using {data_dir}"):
            with hold(data_dir):
                pass
    with hold(data_dir):  # released: a stale file blocks nobody
        pass
