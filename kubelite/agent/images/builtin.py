"""docker.io/library/busybox:latest built on the node from its own busybox-static, so pods run offline.

One uncompressed layer (bin/busybox, a symlink per applet, /etc/passwd and /etc/group with root and nobody,
/tmp 1777), a config with PATH and Cmd ["sh"], and an OCI manifest. Every timestamp and owner is fixed, so
the same busybox binary always gives the same digests.
"""

from __future__ import annotations

import asyncio
import io
import platform
import subprocess
import tarfile
from pathlib import Path

import orjson

from kubelite.agent.images.reference import parse_reference
from kubelite.agent.images.store import ImageRecord, ImageStore

BUILTIN_REFERENCE = "docker.io/library/busybox:latest"
BUSYBOX_BINARY = Path("/bin/busybox")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_EPOCH = 0
_DIRECTORIES = {"bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "proc": 0o755, "root": 0o700,
                "sbin": 0o755, "sys": 0o755, "tmp": 0o1777, "usr": 0o755, "usr/bin": 0o755,
                "usr/sbin": 0o755, "var": 0o755, "var/www": 0o755}
_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
    "etc/group": "root:x:0:\nnobody:x:65534:\n",
}
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
                  "s390x": "s390x", "riscv64": "riscv64"}


def node_architecture() -> str:
    machine = platform.machine()
    return _ARCHITECTURES.get(machine, machine)


def _entry(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, _EPOCH
    return info


def build_layer(busybox: Path = BUSYBOX_BINARY) -> bytes:
    """The layer tar: the same bytes for the same busybox binary."""
    applets = subprocess.run([str(busybox), "--list-full"], check=True, capture_output=True,
                             text=True).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, mode in sorted(_DIRECTORIES.items()):
            archive.addfile(_entry(name + "/", tarfile.DIRTYPE, mode))
        binary = busybox.read_bytes()
        info = _entry("bin/busybox", tarfile.REGTYPE, 0o755)
        info.size = len(binary)
        archive.addfile(info, io.BytesIO(binary))
        for applet in sorted(set(applets) - {"bin/busybox"}):
            link = _entry(applet, tarfile.SYMTYPE, 0o777)
            link.linkname = "/bin/busybox"
            archive.addfile(link)
        for name, text in sorted(_FILES.items()):
            content = text.encode()
            info = _entry(name, tarfile.REGTYPE, 0o644)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _write_image(store: ImageStore, layer: bytes) -> str:
    """Store layer, config and manifest; returns the manifest digest."""
    layer_digest = store.write_blob(layer)
    config = orjson.dumps({
        "architecture": node_architecture(), "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Env": [PATH_ENV], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "kubelite: busybox-static"}],
    })
    config_digest = store.write_blob(config)
    manifest = orjson.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
    })
    return store.write_blob(manifest)


async def ensure_builtin_busybox(store: ImageStore, *, busybox: Path = BUSYBOX_BINARY) -> ImageRecord:
    """The store's busybox:latest, built from the node's busybox-static when absent."""
    reference = parse_reference(BUILTIN_REFERENCE)
    present = store.get(reference)
    if present is not None:
        return present
    layer = await asyncio.to_thread(build_layer, busybox)
    manifest_digest = await asyncio.to_thread(_write_image, store, layer)
    return await store.tag(reference, manifest_digest)
