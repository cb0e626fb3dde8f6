"""Layer tars applied with whiteouts and opaque dirs, absolute symlinks kept, escapes refused."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from kubelite.agent.images.layers import OVERLAY_OPAQUE_XATTR, LayerError, apply_layer

Entry = tuple[str, str, str | bytes]  # (kind, name, content or link target)


def make_layer(entries: list[Entry], *, compress: bool = False, mode: int = 0o644,
               uid: int = 0) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for kind, name, content in entries:
            info = tarfile.TarInfo(name)
            info.uid = info.gid = uid
            if kind == "file":
                data = content.encode() if isinstance(content, str) else content
                info.size, info.mode = len(data), mode
                archive.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = str(content)
                archive.addfile(info)
    data = buffer.getvalue()
    return io.BytesIO(gzip.compress(data) if compress else data)


def test_gzip_layers_stack_with_whiteouts_and_opaque_dirs(tmp_path: Path) -> None:
    root = tmp_path / "root"
    apply_layer(make_layer([("dir", "etc", ""), ("file", "etc/keep", "k"), ("file", "etc/gone", "g"),
                            ("dir", "var/cache", ""), ("file", "var/cache/old", "o"), ("file", "top", "1")],
                           compress=True), root, flatten=True)
    apply_layer(make_layer([("file", "etc/.wh.gone", ""), ("file", "var/cache/.wh..wh..opq", ""),
                            ("file", "var/cache/new", "n"), ("file", "top", "2")]), root, flatten=True)
    assert (root / "etc/keep").read_text() == "k"
    assert not (root / "etc/gone").exists()
    assert sorted(os.listdir(root / "var/cache")) == ["new"]
    assert (root / "top").read_text() == "2"
    assert not any(name.startswith(".wh.") for _, _, names in os.walk(root) for name in names)


def test_separate_layer_dirs_carry_overlay_whiteouts(tmp_path: Path) -> None:
    lower = tmp_path / "layer"
    apply_layer(make_layer([("file", "etc/.wh.gone", ""), ("file", "cache/.wh..wh..opq", ""),
                            ("file", "cache/new", "n")]), lower)
    whiteout = os.lstat(lower / "etc/gone")
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == os.makedev(0, 0)
    assert os.getxattr(lower / "cache", OVERLAY_OPAQUE_XATTR) == b"y"
    assert (lower / "cache/new").read_text() == "n"


def test_absolute_symlinks_are_kept_and_hard_links_inside_work(tmp_path: Path) -> None:
    root = tmp_path / "root"
    apply_layer(make_layer([("file", "bin/busybox", "elf"), ("symlink", "bin/sh", "/bin/busybox"),
                            ("hardlink", "bin/ls", "bin/busybox")]), root)
    assert os.readlink(root / "bin/sh") == "/bin/busybox"
    assert (root / "bin/ls").read_text() == "elf"
    assert os.stat(root / "bin/ls").st_ino == os.stat(root / "bin/busybox").st_ino


def test_modes_and_numeric_ownership_are_preserved(tmp_path: Path) -> None:
    root = tmp_path / "root"
    apply_layer(make_layer([("file", "usr/bin/tool", "x")], mode=0o4755, uid=1234), root)
    info = os.stat(root / "usr/bin/tool")
    assert stat.S_IMODE(info.st_mode) == 0o4755
    assert (info.st_uid, info.st_gid) == (1234, 1234)


@pytest.mark.parametrize("entries", [
    [("file", "../outside", "x")],
    [("file", "/etc/outside", "x")],
    [("file", "a/../../outside", "x")],
    [("hardlink", "passwd", "../../etc/passwd")],
    [("symlink", "escape", "/"), ("file", "escape/outside", "x")],
    [("symlink", "up", ".."), ("file", "up/outside", "x")],
], ids=["dotdot", "absolute", "nested-dotdot", "hardlink-out", "through-abs-symlink", "through-rel-symlink"])
def test_members_escaping_the_root_are_refused(tmp_path: Path, entries: list[Entry]) -> None:
    root = tmp_path / "deep" / "root"
    sentinel = tmp_path / "deep" / "outside"
    sentinel.parent.mkdir()
    sentinel.write_text("untouched")
    with pytest.raises(LayerError, match=r"outside the root|escapes the root"):
        apply_layer(make_layer(entries), root, flatten=True)
    assert sentinel.read_text() == "untouched"
    assert not (tmp_path / "outside").exists()


def test_a_whiteout_cannot_reach_through_a_lower_layers_symlink(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "root"
    sentinel = tmp_path / "deep" / "outside"
    apply_layer(make_layer([("symlink", "up", "..")]), root, flatten=True)
    sentinel.write_text("untouched")
    with pytest.raises(LayerError, match="outside the root"):
        apply_layer(make_layer([("file", "up/.wh.outside", "")]), root, flatten=True)
    assert sentinel.read_text() == "untouched"


def test_a_file_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    target = tmp_path / "host-file"
    target.write_text("host")
    apply_layer(make_layer([("symlink", "f", str(target))]), root, flatten=True)
    apply_layer(make_layer([("file", "f", "image")]), root, flatten=True)
    assert target.read_text() == "host"
    assert (root / "f").read_text() == "image" and not (root / "f").is_symlink()


def test_a_corrupt_tar_is_a_layer_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError):
        apply_layer(io.BytesIO(gzip.compress(b"not a tar at all" * 100)), tmp_path / "root")
