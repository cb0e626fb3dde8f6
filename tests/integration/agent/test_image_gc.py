"""Image garbage collection: only past the high threshold, only unused images, least recently used first."""

from __future__ import annotations

from pathlib import Path

from kubelite.agent.images.builtin import ensure_builtin_busybox
from kubelite.agent.images.gc import ImageGarbageCollector
from kubelite.agent.images.store import ImageStore


async def _store_with_images(tmp_path: Path) -> ImageStore:
    store = ImageStore(tmp_path / "images")
    busybox = await ensure_builtin_busybox(store)
    for name in ("old", "recent", "running"):
        await store.tag(f"example.com/{name}:1", busybox.manifest_digest)
    return store


async def test_nothing_is_removed_below_the_high_threshold(tmp_path: Path) -> None:
    store = await _store_with_images(tmp_path)

    async def in_use() -> set[str]:
        return set()

    collector = ImageGarbageCollector(store, in_use, usage=lambda: 84.0)
    assert await collector.collect() == []
    assert len(store.list()) == 4


async def test_unused_images_go_least_recently_used_first_until_below_the_low_threshold(
    tmp_path: Path,
) -> None:
    store = await _store_with_images(tmp_path)
    using = {"example.com/old:1", "example.com/recent:1", "example.com/running:1"}

    async def in_use() -> set[str]:
        return set(using)

    readings = [50.0]
    collector = ImageGarbageCollector(
        store, in_use, keep=frozenset({"docker.io/library/busybox:latest"}), usage=lambda: readings.pop(0)
    )
    assert await collector.collect() == []  # below the threshold: it only notes what is in use
    using.discard("example.com/old:1")
    readings.append(50.0)
    await collector.collect()  # "recent" is seen in use later than "old"
    using.discard("example.com/recent:1")
    readings.extend([90.0, 82.0, 79.0])
    assert await collector.collect() == ["example.com/old:1", "example.com/recent:1"]
    assert sorted(r.reference for r in store.list()) == [
        "docker.io/library/busybox:latest", "example.com/running:1"]
    assert store.has_blob(store.list()[0].manifest_digest)  # blobs still referenced stay
