"""Import images from tar archives into the node's store: `docker save` output and OCI image layouts.

Air-gapped nodes get images this way (k3s's agent/images directory, `ctr image import`). Both formats end up
as ordinary content-addressed blobs and index entries, indistinguishable from a pull.
"""

from __future__ import annotations

import asyncio
import gzip
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from kubelite.agent.images.reference import ImageReference, parse_reference
from kubelite.agent.images.registry import INDEX_TYPES, OCI_MANIFEST, Platform, select_platform
from kubelite.agent.images.store import ImageRecord, ImageStore

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name"


class ArchiveError(Exception):
    """The file is not an image archive this node can import."""


@dataclass(frozen=True)
class _Imported:
    reference: ImageReference
    manifest_digest: str


class _Archive:
    """Members of an open tar by normalised name (`./blobs/x` and `blobs/x` are the same member)."""

    def __init__(self, archive: tarfile.TarFile) -> None:
        self._archive = archive
        self._members = {member.name.removeprefix("./"): member for member in archive.getmembers()}

    def __contains__(self, name: str) -> bool:
        return name in self._members

    def open(self, name: str) -> IO[bytes]:
        member = self._members.get(name)
        stream = self._archive.extractfile(member) if member is not None else None
        if stream is None:
            raise ArchiveError(f"archive has no file {name!r}")
        return stream

    def json(self, name: str) -> Any:
        with self.open(name) as stream:
            try:
                return orjson.loads(stream.read())
            except orjson.JSONDecodeError as error:
                raise ArchiveError(f"{name} in the archive is not JSON: {error}") from error


def _descriptor(media_type: str, digest: str, store: ImageStore) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": store.blob_path(digest).stat().st_size}


def _import_docker_save(archive: _Archive, store: ImageStore) -> list[_Imported]:
    imported = []
    for entry in archive.json("manifest.json"):
        tags = entry.get("RepoTags") or []
        if not tags:
            raise ArchiveError("docker-save archive holds an image without a tag; tag it before saving")
        with archive.open(entry["Config"]) as stream:
            config = store.ingest(stream)
        layers = []
        for layer_name in entry["Layers"]:
            with archive.open(layer_name) as stream:
                digest = store.ingest(stream)
            with store.blob_path(digest).open("rb") as blob:
                compressed = blob.read(2) == b"\x1f\x8b"
            layers.append(_descriptor(OCI_LAYER_GZIP if compressed else OCI_LAYER, digest, store))
        # docker save keeps no manifest: write the OCI manifest a registry would have served for it.
        manifest = store.write_blob(orjson.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                                  "config": _descriptor(OCI_CONFIG, config, store),
                                                  "layers": layers}))
        imported += [_Imported(parse_reference(tag), manifest) for tag in tags]
    return imported


def _blob_name(digest: str) -> str:
    algorithm, _, hex_digest = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digest}"


def _copy_blob(archive: _Archive, store: ImageStore, digest: str) -> None:
    if not store.has_blob(digest):
        with archive.open(_blob_name(digest)) as stream:
            store.ingest(stream, expected=digest)


def _oci_reference(annotations: dict[str, str], base_name: str | None) -> ImageReference:
    name = annotations.get(CONTAINERD_NAME_ANNOTATION) or annotations.get(REF_NAME_ANNOTATION)
    if not name:
        raise ArchiveError("OCI archive has a manifest without a ref.name annotation to name it by")
    if "/" in name or ":" in name or "@" in name:
        return parse_reference(name)
    if base_name is None:  # only a tag: the repository must come from the user, as with `ctr --base-name`
        raise ArchiveError(f"OCI archive names its image only by tag {name!r}; give a base name to import it")
    return parse_reference(f"{base_name}:{name}")


def _import_oci_layout(archive: _Archive, store: ImageStore, base_name: str | None,
                       node_platform: Platform) -> list[_Imported]:
    imported = []
    for descriptor in archive.json("index.json").get("manifests", []):
        reference = _oci_reference(descriptor.get("annotations") or {}, base_name)
        if descriptor.get("mediaType") in INDEX_TYPES:
            descriptor = select_platform(archive.json(_blob_name(descriptor["digest"])), node_platform)
        manifest_digest = descriptor["digest"]
        _copy_blob(archive, store, manifest_digest)
        manifest = orjson.loads(store.read_blob(manifest_digest))
        for blob in [manifest["config"], *manifest["layers"]]:
            _copy_blob(archive, store, blob["digest"])
        imported.append(_Imported(reference, manifest_digest))
    return imported


def _import_file(path: Path, store: ImageStore, base_name: str | None,
                 node_platform: Platform) -> list[_Imported]:
    try:
        opened = tarfile.open(path, mode="r:*")
    except (tarfile.TarError, OSError, gzip.BadGzipFile) as error:
        raise ArchiveError(f"cannot read {path} as a tar archive: {error}") from error
    with opened:
        archive = _Archive(opened)
        if "manifest.json" in archive:
            return _import_docker_save(archive, store)
        if "oci-layout" in archive and "index.json" in archive:
            return _import_oci_layout(archive, store, base_name, node_platform)
    raise ArchiveError(f"{path} is neither a docker-save archive (manifest.json) nor an OCI layout "
                       "(oci-layout, index.json)")


async def import_archive(store: ImageStore, path: Path, *, base_name: str | None = None,
                         node_platform: Platform | None = None) -> list[ImageRecord]:
    """Copy every image in the archive at `path` into `store` and tag it; returns the records made."""
    imported = await asyncio.to_thread(_import_file, path, store, base_name,
                                       node_platform or Platform.of_this_node())
    return [await store.tag(entry.reference, entry.manifest_digest) for entry in imported]
