"""The built-in busybox image: deterministic, complete, and quick to build."""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import orjson

from kubelite.agent.images.builtin import BUILTIN_REFERENCE, PATH_ENV, build_layer, ensure_builtin_busybox
from kubelite.agent.images.reference import parse_reference
from kubelite.agent.images.store import ImageStore


async def test_same_digest_every_build(tmp_path: Path) -> None:
    begun = time.monotonic()
    first = await ensure_builtin_busybox(ImageStore(tmp_path / "a"))
    assert time.monotonic() - begun < 0.5
    second = await ensure_builtin_busybox(ImageStore(tmp_path / "b"))
    assert first.manifest_digest == second.manifest_digest and first.image_id == second.image_id
    assert first.reference == str(parse_reference(BUILTIN_REFERENCE)) == "docker.io/library/busybox:latest"


async def test_present_image_is_kept(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    record = await ensure_builtin_busybox(store)
    index_written = (tmp_path / "images.json").stat().st_mtime_ns
    assert await ensure_builtin_busybox(store) == record
    assert (tmp_path / "images.json").stat().st_mtime_ns == index_written


async def test_config_and_layer_contents(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    record = await ensure_builtin_busybox(store)
    config = orjson.loads(store.read_blob(record.config_digest))
    assert config["os"] == "linux" and config["architecture"]
    assert config["config"] == {"Env": [PATH_ENV], "Cmd": ["sh"]}
    assert config["rootfs"]["diff_ids"] == list(record.layer_digests)
    layer = store.read_blob(record.layer_digests[0])
    assert layer == build_layer()
    with tarfile.open(fileobj=io.BytesIO(layer)) as archive:
        members = {m.name: m for m in archive.getmembers()}
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "/bin/busybox"
    assert members["usr/bin/wget"].linkname == "/bin/busybox"
    assert members["tmp"].mode == 0o1777 and members["bin/busybox"].mode == 0o755
    assert {m.mtime for m in members.values()} == {0}
    passwd = archive_text(layer, "etc/passwd")
    assert "root:x:0:0:" in passwd and "nobody:x:65534:65534:" in passwd
    [directory] = store.unpack(record)
    assert (directory / "bin/busybox").is_file() and (directory / "etc/group").is_file()


def archive_text(layer: bytes, name: str) -> str:
    with tarfile.open(fileobj=io.BytesIO(layer)) as archive:
        member = archive.extractfile(name)
        assert member is not None
        return member.read().decode()
