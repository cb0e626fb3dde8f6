"""The atomic writer's on-disk layout and its in-place updates."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kubelite.agent.volumes.atomic import DATA_DIR, File, write


def visible(target: Path) -> list[str]:
    return sorted(name for name in os.listdir(target) if not name.startswith(".."))


def test_layout_updates_and_no_op(tmp_path: Path) -> None:
    assert write(tmp_path, {"a": File(b"1"), "dir/b": File(b"2", 0o400)})
    first = os.readlink(tmp_path / DATA_DIR)
    assert first.startswith("..") and len(first) == len("..2026_11_25_22_23_19.") + 10
    assert stat.S_IMODE((tmp_path / first).stat().st_mode) == 0o755
    assert visible(tmp_path) == ["a", "dir"]
    assert os.readlink(tmp_path / "dir") == f"{DATA_DIR}/dir"
    assert (tmp_path / "dir" / "b").read_bytes() == b"2"
    assert stat.S_IMODE((tmp_path / "dir" / "b").stat().st_mode) == 0o400

    assert not write(tmp_path, {"a": File(b"1"), "dir/b": File(b"2", 0o400)})
    assert os.readlink(tmp_path / DATA_DIR) == first

    assert write(tmp_path, {"a": File(b"1", 0o600)})  # a mode change alone rewrites
    second = os.readlink(tmp_path / DATA_DIR)
    assert second != first and not (tmp_path / first).exists()
    assert visible(tmp_path) == ["a"]
    assert sorted(os.listdir(tmp_path)) == sorted([DATA_DIR, second, "a"])


def test_empty_payload_and_foreign_files(tmp_path: Path) -> None:
    (tmp_path / "mine").write_text("not the writer's")
    assert write(tmp_path, {})
    assert visible(tmp_path) == ["mine"]  # only the writer's symlinks are ever removed
    assert os.listdir(tmp_path / DATA_DIR) == []
