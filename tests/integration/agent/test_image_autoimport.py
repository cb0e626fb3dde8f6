"""Archives dropped into <data-dir>/agent/images are imported once, again when replaced, never fatally."""

from __future__ import annotations

import os
from pathlib import Path

from kubelite.agent.images.autoimport import ArchiveImporter
from kubelite.cli.image import image_store
from tests.support.registry import skopeo_copy


async def test_dropped_archives_are_imported_once_and_again_when_replaced(
    busybox_layout: Path, tmp_path: Path
) -> None:
    store = image_store(tmp_path)
    images_dir = store.root
    images_dir.mkdir(parents=True, exist_ok=True)
    archive = images_dir / "busybox.tar"
    skopeo_copy(f"oci:{busybox_layout}:latest", f"docker-archive:{archive}:busybox:latest")
    (images_dir / "notes.txt").write_text("not an archive")
    (images_dir / "broken.tar").write_bytes(b"this is not a tar file")

    importer = ArchiveImporter(store, images_dir)
    first = await importer.scan()
    assert [record.reference for record in first] == ["docker.io/library/busybox:latest"]
    assert store.get("busybox:latest") is not None
    assert await importer.scan() == []  # unchanged archives are not imported again

    # A restarted agent remembers what it imported; a replaced archive is imported again.
    assert await ArchiveImporter(store, images_dir).scan() == []
    await store.remove("busybox:latest")
    os.utime(archive, ns=(archive.stat().st_atime_ns, archive.stat().st_mtime_ns + 1_000_000_000))
    again = await ArchiveImporter(store, images_dir).scan()
    assert [record.reference for record in again] == ["docker.io/library/busybox:latest"]
