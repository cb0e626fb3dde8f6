"""The node's content-addressed image store, shared by every pod on the node.

    <root>/blobs/sha256/<hex>     manifests, configs and layer tars, named by their digest
    <root>/layers/sha256/<hex>    each layer unpacked once (overlayfs lowerdir), named by its diff-id
    <root>/images.json            image reference → manifest digest, config digest, layer digests

Pulls honour imagePullPolicy as the kubelet does; garbage collection deletes what no reference points at.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import orjson

from kubelite.agent.images.layers import apply_layer
from kubelite.agent.images.reference import ImageReference, parse_reference
from kubelite.agent.images.registry import DigestMismatch, Manifest, ProgressHook, RegistryClient


class PullPolicy(StrEnum):
    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


class ImageNeverPullError(Exception):
    """The image is absent and the policy forbids pulling it (the kubelet's ErrImageNeverPull)."""


class ImageNotKnown(KeyError):
    """No image in the store has this reference."""


@dataclass(frozen=True)
class ImageRecord:
    reference: str
    manifest_digest: str
    config_digest: str
    layer_digests: tuple[str, ...]
    size: int

    @property
    def image_id(self) -> str:
        """The config digest: the same image under several names has one ID, as in crictl."""
        return self.config_digest


@dataclass(frozen=True)
class GarbageCollection:
    blobs_removed: int
    layers_removed: int
    bytes_freed: int


def _directory_size(path: Path) -> int:
    return sum(entry.lstat().st_size for entry in path.rglob("*"))


class ImageStore:
    """Blobs, unpacked layers and the reference index under one directory."""

    def __init__(self, root: Path, *, registry: RegistryClient | None = None) -> None:
        self.root = root
        self.registry = registry
        self._blobs = root / "blobs"
        self._layers = root / "layers"
        self._index_path = root / "images.json"
        self._index_lock = asyncio.Lock()
        # Blobs of pulls under way: not yet indexed, but garbage collection must not take them.
        self._in_flight: Counter[str] = Counter()
        root.mkdir(parents=True, exist_ok=True)

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hex_digest = digest.partition(":")
        return self._blobs / algorithm / hex_digest

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def write_blob(self, data: bytes) -> str:
        """Store small content (a manifest or config) and return its digest."""
        return self.ingest(io.BytesIO(data))

    def ingest(self, stream: IO[bytes], *, expected: str | None = None) -> str:
        """Copy `stream` into the store and return its digest; DigestMismatch if it is not `expected`."""
        self._blobs.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self._blobs, prefix=".tmp-")
        try:
            hasher = hashlib.sha256()
            with os.fdopen(descriptor, "wb") as out:
                while chunk := stream.read(1 << 16):
                    hasher.update(chunk)
                    out.write(chunk)
            digest = f"sha256:{hasher.hexdigest()}"
            if expected is not None and digest != expected:
                raise DigestMismatch(f"content expected as {expected} hashed to {digest}",
                                     code="DIGEST_INVALID")
            self.blob_path(digest).parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, self.blob_path(digest))
        except BaseException:
            os.unlink(temporary)
            raise
        return digest

    # The index: a small JSON file rewritten atomically, so a crash leaves the old or the new one.
    def _read_index(self) -> dict[str, dict[str, Any]]:
        if not self._index_path.exists():
            return {}
        images: dict[str, dict[str, Any]] = orjson.loads(self._index_path.read_bytes())["images"]
        return images

    @contextlib.contextmanager
    def _index_file_lock(self) -> Iterator[None]:
        # The agent and `kubelite image` commands may update the index at once: lock across processes too.
        with open(self.root / "images.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            yield

    def _write_index(self, images: dict[str, dict[str, Any]]) -> None:
        temporary = self._index_path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps({"images": images}, option=orjson.OPT_INDENT_2))
        os.replace(temporary, self._index_path)

    @staticmethod
    def _record(reference: str, entry: dict[str, Any]) -> ImageRecord:
        return ImageRecord(reference=reference, manifest_digest=entry["manifest_digest"],
                           config_digest=entry["config_digest"], layer_digests=tuple(entry["layer_digests"]),
                           size=entry["size"])

    def get(self, ref: ImageReference | str) -> ImageRecord | None:
        """The stored image for `ref`, or None when it or any of its blobs is missing."""
        key = str(parse_reference(ref) if isinstance(ref, str) else ref)
        entry = self._read_index().get(key)
        if entry is None:
            return None
        record = self._record(key, entry)
        wanted = (record.manifest_digest, record.config_digest, *record.layer_digests)
        return record if all(self.has_blob(digest) for digest in wanted) else None

    def list(self) -> list[ImageRecord]:
        return [self._record(key, entry) for key, entry in sorted(self._read_index().items())]

    async def tag(self, ref: ImageReference, manifest_digest: str) -> ImageRecord:
        """Point `ref` at a manifest whose config and layers are already in the store."""
        manifest = orjson.loads(self.read_blob(manifest_digest))
        layers = [layer["digest"] for layer in manifest["layers"]]
        size = manifest["config"]["size"] + sum(layer["size"] for layer in manifest["layers"])
        entry = {"manifest_digest": manifest_digest, "config_digest": manifest["config"]["digest"],
                 "layer_digests": layers, "size": size}
        async with self._index_lock:
            with self._index_file_lock():
                images = self._read_index()
                images[str(ref)] = entry
                self._write_index(images)
        return self._record(str(ref), entry)

    async def remove(self, ref: str) -> ImageRecord:
        """Forget a reference (blobs go at the next garbage collection); ImageNotKnown if absent."""
        key = str(parse_reference(ref))
        async with self._index_lock:
            with self._index_file_lock():
                images = self._read_index()
                if key not in images:
                    raise ImageNotKnown(f"image {ref!r} is not present on this node")
                entry = images.pop(key)
                self._write_index(images)
        return self._record(key, entry)

    async def pull(self, ref: ImageReference | str, policy: PullPolicy = PullPolicy.IF_NOT_PRESENT, *,
                   progress: ProgressHook | None = None) -> ImageRecord:
        """Make `ref` present, asking the registry only when the policy says to."""
        image = parse_reference(ref) if isinstance(ref, str) else ref
        present = self.get(image)
        if policy is PullPolicy.NEVER:
            if present is None:
                raise ImageNeverPullError(
                    f'Container image "{image}" is not present with pull policy of Never')
            return present
        if present is not None and policy is PullPolicy.IF_NOT_PRESENT:
            return present
        if self.registry is None:
            raise RuntimeError("this image store has no registry client to pull with")
        # Always still resolves the manifest: an unchanged digest means nothing is downloaded.
        manifest = await self.registry.get_manifest(image)
        body = manifest.body
        wanted = [manifest.digest, body["config"]["digest"], *(layer["digest"] for layer in body["layers"])]
        self._in_flight.update(wanted)
        try:
            await self._fetch_missing_blobs(image, manifest, progress)
            return await self.tag(image, self.write_blob(manifest.raw))
        finally:
            self._in_flight.subtract(wanted)
            self._in_flight += Counter()  # drops the digests that reached zero

    async def _fetch_missing_blobs(self, image: ImageReference, manifest: Manifest,
                                   progress: ProgressHook | None) -> None:
        assert self.registry is not None
        body = manifest.body
        for descriptor in [body["config"], *body["layers"]]:
            digest = descriptor["digest"]
            if not self.has_blob(digest):
                await self.registry.fetch_blob(image, digest, self.blob_path(digest), progress=progress)

    def diff_ids(self, record: ImageRecord) -> builtins.list[str]:
        config = orjson.loads(self.read_blob(record.config_digest))
        diff_ids: builtins.list[str] = config["rootfs"]["diff_ids"]
        return diff_ids

    def unpack(self, record: ImageRecord) -> builtins.list[Path]:
        """Each layer's directory, bottom layer first, unpacking only those not cached yet."""
        directories: builtins.list[Path] = []
        for blob_digest, diff_id in zip(record.layer_digests, self.diff_ids(record), strict=True):
            algorithm, _, hex_digest = diff_id.partition(":")
            directory = self._layers / algorithm / hex_digest
            if not directory.is_dir():
                directory.parent.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".tmp-"))
                try:
                    apply_layer(self.blob_path(blob_digest), staging)
                    os.replace(staging, directory)
                except OSError:
                    shutil.rmtree(staging, ignore_errors=True)
                    if not directory.is_dir():  # else a concurrent unpack of the same layer won the rename
                        raise
                except BaseException:
                    shutil.rmtree(staging, ignore_errors=True)
                    raise
            directories.append(directory)
        return directories

    def garbage_collect(self) -> GarbageCollection:
        """Delete blobs and unpacked layers that no reference in the index needs."""
        live_blobs: set[str] = set(self._in_flight)
        live_layers: set[str] = set()
        for record in self.list():
            live_blobs.update((record.manifest_digest, record.config_digest, *record.layer_digests))
            if self.has_blob(record.config_digest):
                live_layers.update(self.diff_ids(record))
        blobs = layers = freed = 0
        for path in self._blobs.glob("*/*"):
            # Names starting with "." are downloads and unpacks still being written.
            if not path.name.startswith(".") and f"{path.parent.name}:{path.name}" not in live_blobs:
                freed += path.stat().st_size
                path.unlink()
                blobs += 1
        for path in self._layers.glob("*/*"):
            if not path.name.startswith(".") and f"{path.parent.name}:{path.name}" not in live_layers:
                freed += _directory_size(path)
                shutil.rmtree(path)
                layers += 1
        return GarbageCollection(blobs_removed=blobs, layers_removed=layers, bytes_freed=freed)
