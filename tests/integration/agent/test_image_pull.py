"""Pulling busybox from a real registry on 127.0.0.1 into the node's image store."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from kubelite.agent.images.registry import OCI_INDEX, OCI_MANIFEST, Platform, RegistryClient
from kubelite.agent.images.store import ImageNeverPullError, ImageStore, PullPolicy
from tests.integration.agent.conftest import PushedImages
from tests.support.registry import skopeo_copy


@pytest.fixture
async def store(pushed_images: PushedImages, tmp_path: Path) -> AsyncIterator[ImageStore]:
    async with RegistryClient(insecure_registries=[pushed_images.registry.host]) as client:
        yield ImageStore(tmp_path / "images", registry=client)


def manifest_digest(images: PushedImages, name: str) -> str:
    request = urllib.request.Request(f"http://{images.registry.host}/v2/{name.replace(':', '/manifests/')}",
                                     headers={"Accept": OCI_MANIFEST}, method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(response.headers["Docker-Content-Digest"])


def put_index(images: PushedImages, name: str, entries: list[tuple[str, str]]) -> None:
    """Push an OCI index of (manifest digest, linux architecture) entries under `name`."""
    index = orjson.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": digest, "size": 1,
         "platform": {"os": "linux", "architecture": architecture}} for digest, architecture in entries]})
    request = urllib.request.Request(f"http://{images.registry.host}/v2/{name.replace(':', '/manifests/')}",
                                     data=index, headers={"Content-Type": OCI_INDEX}, method="PUT")
    urllib.request.urlopen(request, timeout=5).close()


async def test_pull_by_tag_then_unpack_layers(pushed_images: PushedImages, store: ImageStore) -> None:
    progress: list[tuple[str, int, int | None]] = []
    record = await store.pull(pushed_images.ref("busybox:latest"),
                              progress=lambda digest, done, total: progress.append((digest, done, total)))
    assert record.manifest_digest == manifest_digest(pushed_images, "busybox:latest")
    assert [entry.reference for entry in store.list()] == [pushed_images.ref("busybox:latest")]
    assert {digest for digest, _, _ in progress} == {record.config_digest, *record.layer_digests}
    (lower,) = store.unpack(record)
    assert os.readlink(lower / "bin/sh") == "/bin/busybox"
    assert os.access(lower / "bin/busybox", os.X_OK)
    assert store.unpack(record) == [lower]  # cached per diff-id


async def test_pull_by_digest(pushed_images: PushedImages, store: ImageStore) -> None:
    digest = manifest_digest(pushed_images, "busybox:marked")
    record = await store.pull(pushed_images.ref(f"busybox@{digest}"))
    assert record.manifest_digest == digest
    assert record.reference == pushed_images.ref(f"busybox@{digest}")
    assert (store.unpack(record)[-1] / "marker").read_text() == "marked\n"


async def test_an_index_resolves_to_the_node_platform(pushed_images: PushedImages, store: ImageStore) -> None:
    here = Platform.of_this_node()
    elsewhere = "s390x" if here.architecture != "s390x" else "amd64"
    entries = [(manifest_digest(pushed_images, "busybox:latest"), elsewhere),
               (manifest_digest(pushed_images, "busybox:marked"), here.architecture)]
    put_index(pushed_images, "busybox:multi", entries)
    record = await store.pull(pushed_images.ref("busybox:multi"))
    assert record.manifest_digest == entries[1][0]


async def test_pull_policies(pushed_images: PushedImages, store: ImageStore) -> None:
    ref = pushed_images.ref("policy:v1")
    with pytest.raises(ImageNeverPullError, match="not present with pull policy of Never"):
        await store.pull(ref, PullPolicy.NEVER)
    skopeo_copy(f"oci:{pushed_images.layout}:latest", f"docker://{ref}")
    first = await store.pull(ref, PullPolicy.IF_NOT_PRESENT)
    # The tag moves in the registry: IfNotPresent and Never keep what the node has, Always follows the tag.
    skopeo_copy(f"oci:{pushed_images.layout}:marked", f"docker://{ref}")
    assert await store.pull(ref, PullPolicy.IF_NOT_PRESENT) == first
    assert await store.pull(ref, PullPolicy.NEVER) == first
    moved = await store.pull(ref, PullPolicy.ALWAYS)
    assert moved.manifest_digest == manifest_digest(pushed_images, "policy:v1") != first.manifest_digest
    downloads: list[str] = []
    again = await store.pull(ref, PullPolicy.ALWAYS, progress=lambda digest, *_: downloads.append(digest))
    assert again == moved and downloads == []  # Always with an unchanged digest downloads nothing


async def test_remove_and_garbage_collect(pushed_images: PushedImages, store: ImageStore) -> None:
    plain = await store.pull(pushed_images.ref("busybox:latest"))
    marked = await store.pull(pushed_images.ref("busybox:marked"))
    store.unpack(plain)
    marked_layers = store.unpack(marked)
    assert store.garbage_collect().blobs_removed == 0
    await store.remove(pushed_images.ref("busybox:latest"))
    collected = store.garbage_collect()
    assert collected.blobs_removed >= 2 and collected.bytes_freed > 0
    assert not store.has_blob(plain.manifest_digest) and not store.has_blob(plain.config_digest)
    assert store.get(pushed_images.ref("busybox:marked")) == marked
    assert all(layer.is_dir() for layer in marked_layers)
    await store.remove(pushed_images.ref("busybox:marked"))
    assert store.garbage_collect().layers_removed == len(marked_layers)
    leftovers = [path for folder in ("blobs", "layers") for path in (store.root / folder).glob("*/*")]
    assert leftovers == []
