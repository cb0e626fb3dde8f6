"""The distribution client against a tiny fake registry on 127.0.0.1 (aiohttp), for what the real
docker-registry cannot show: the Bearer-token flow, corrupted blobs, and registry error bodies."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from kubelite.agent.images.reference import parse_reference
from kubelite.agent.images.registry import (
    OCI_INDEX,
    OCI_MANIFEST,
    DigestMismatch,
    Platform,
    RegistryClient,
    RegistryError,
    RegistryUnreachable,
)
from kubelite.agent.images.store import ImageStore, PullPolicy
from tests.support.etcd import free_port

TOKEN = "anonymous-pull-token"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("hello")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    return buffer.getvalue()


@dataclass
class FakeRegistry:
    """Serves one repository, `app`, with an image index; optionally behind a token server."""

    port: int
    require_token: bool = False
    corrupt: set[str] = field(default_factory=set)
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def add_image(self) -> tuple[str, str]:
        """Returns (index digest, the amd64 manifest digest) after storing an index with two platforms."""
        tar = layer_bytes()
        layer = gzip.compress(tar)
        config = orjson.dumps({"architecture": "amd64", "os": "linux",
                               "rootfs": {"type": "layers", "diff_ids": [digest_of(tar)]}})
        self.blobs.update({digest_of(layer): layer, digest_of(config): config})
        manifest = orjson.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(config),
                       "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": digest_of(layer), "size": len(layer)}]})
        other = b'{"schemaVersion":2,"layers":[]}'
        index = orjson.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": digest_of(other), "size": len(other),
             "platform": {"os": "linux", "architecture": "s390x"}},
            {"mediaType": OCI_MANIFEST, "digest": digest_of(manifest), "size": len(manifest),
             "platform": {"os": "linux", "architecture": "amd64"}}]})
        for body, media_type in ((manifest, OCI_MANIFEST), (other, OCI_MANIFEST), (index, OCI_INDEX)):
            self.manifests[digest_of(body)] = (media_type, body)
        self.manifests["v1"] = (OCI_INDEX, index)
        return digest_of(index), digest_of(manifest)

    def _authorized(self, request: web.Request) -> bool:
        return not self.require_token or request.headers.get("Authorization") == f"Bearer {TOKEN}"

    def _challenge(self) -> web.Response:
        header = (f'Bearer realm="http://127.0.0.1:{self.port}/token",service="fake-registry",'
                  'scope="repository:app:pull"')
        return web.json_response({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                                 status=401, headers={"WWW-Authenticate": header})

    async def manifest(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._challenge()
        found = self.manifests.get(request.match_info["reference"])
        if found is None:
            unknown = {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}
            return web.json_response({"errors": [unknown]}, status=404)
        return web.Response(body=found[1], headers={"Content-Type": found[0]})

    async def blob(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._challenge()
        digest = request.match_info["digest"]
        body = self.blobs[digest]
        return web.Response(body=body[:-1] + b"X" if digest in self.corrupt else body)

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests.append(dict(request.query))
        return web.json_response({"token": TOKEN})


@pytest.fixture
async def fake_registry() -> AsyncIterator[FakeRegistry]:
    registry = FakeRegistry(port=free_port())
    app = web.Application()
    app.router.add_get("/v2/app/manifests/{reference}", registry.manifest)
    app.router.add_get("/v2/app/blobs/{digest}", registry.blob)
    app.router.add_get("/token", registry.token)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", registry.port).start()
    yield registry
    await runner.cleanup()


def client_for(registry: FakeRegistry) -> RegistryClient:
    return RegistryClient(insecure_registries=[f"127.0.0.1:{registry.port}"],
                          node_platform=Platform(os="linux", architecture="amd64"))


async def test_bearer_token_flow_then_index_resolved_to_node_platform(fake_registry: FakeRegistry,
                                                                     tmp_path: Path) -> None:
    fake_registry.require_token = True
    _, amd64_manifest = fake_registry.add_image()
    ref = parse_reference(f"127.0.0.1:{fake_registry.port}/app:v1")
    async with client_for(fake_registry) as client:
        manifest = await client.get_manifest(ref)
        assert manifest.digest == amd64_manifest
        layer = manifest.body["layers"][0]
        seen: list[tuple[int, int | None]] = []
        await client.fetch_blob(ref, layer["digest"], tmp_path / "layer",
                                progress=lambda _digest, done, total: seen.append((done, total)))
    assert digest_of((tmp_path / "layer").read_bytes()) == layer["digest"]
    assert seen[-1] == (layer["size"], layer["size"])
    # One token serves the index, the manifest and the blob.
    assert fake_registry.token_requests == [{"service": "fake-registry", "scope": "repository:app:pull"}]


async def test_a_corrupted_blob_is_refused_and_nothing_half_written_stays(fake_registry: FakeRegistry,
                                                                         tmp_path: Path) -> None:
    fake_registry.add_image()
    fake_registry.corrupt = set(fake_registry.blobs)
    async with client_for(fake_registry) as client:
        store = ImageStore(tmp_path / "images", registry=client)
        with pytest.raises(DigestMismatch, match="hashed to sha256:"):
            await store.pull(f"127.0.0.1:{fake_registry.port}/app:v1", PullPolicy.ALWAYS)
    assert [path for path in (tmp_path / "images").rglob("*") if path.is_file()] == []
    assert store.list() == []


async def test_registry_error_bodies_surface_with_their_message(fake_registry: FakeRegistry) -> None:
    async with client_for(fake_registry) as client:
        with pytest.raises(RegistryError, match="MANIFEST_UNKNOWN: manifest unknown") as raised:
            await client.get_manifest(parse_reference(f"127.0.0.1:{fake_registry.port}/app:missing"))
    assert (raised.value.code, raised.value.status) == ("MANIFEST_UNKNOWN", 404)


async def test_no_image_for_this_platform_is_a_clear_error(fake_registry: FakeRegistry) -> None:
    fake_registry.add_image()
    client = RegistryClient(insecure_registries=[f"127.0.0.1:{fake_registry.port}"],
                            node_platform=Platform(os="linux", architecture="riscv64"))
    async with client:
        with pytest.raises(RegistryError, match=r"no image for platform linux/riscv64 .*linux/amd64"):
            await client.get_manifest(parse_reference(f"127.0.0.1:{fake_registry.port}/app:v1"))


async def test_an_unreachable_registry_is_a_clear_error() -> None:
    port = free_port()  # nothing listens here
    async with RegistryClient(insecure_registries=[f"127.0.0.1:{port}"]) as client:
        why = f"cannot reach registry 127.0.0.1:{port}: Connect call failed"
        with pytest.raises(RegistryUnreachable, match=why):
            await client.get_manifest(parse_reference(f"127.0.0.1:{port}/app:v1"))
