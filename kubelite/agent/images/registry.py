"""An async client for the OCI distribution API: manifests (resolved to this node's platform) and blobs.

It speaks to any registry the way containerd does for a kubelet pull: Accept headers for OCI and Docker v2
schema 2 manifests and indexes, the anonymous Bearer-token dance on 401, plain HTTP only for registries the
node's configuration marks insecure, and blobs streamed to disk and sha256-checked before they become visible.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from kubelite.agent.images.reference import ImageReference

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join([OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST])

# platform.machine() names → the architecture (and variant) names used in image indexes.
_ARCHITECTURES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None), "amd64": ("amd64", None), "aarch64": ("arm64", None), "arm64": ("arm64", None),
    "armv7l": ("arm", "v7"), "armv6l": ("arm", "v6"), "i686": ("386", None), "i386": ("386", None),
    "ppc64le": ("ppc64le", None), "s390x": ("s390x", None), "riscv64": ("riscv64", None),
}
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_CHUNK = 1 << 16

ProgressHook = Callable[[str, int, int | None], None]
"""Called with (blob digest, bytes done, total bytes or None) as a blob downloads."""


class RegistryError(Exception):
    """The registry refused a request; `code` is the distribution error code when it sent one."""

    def __init__(self, message: str, *, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _why(error: BaseException) -> str:
    """The cause a user can act on: `Temporary failure in name resolution`, `Connection refused`."""
    if isinstance(error, aiohttp.ClientConnectorError) and error.os_error.strerror:
        return error.os_error.strerror
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__


class RegistryUnreachable(RegistryError):
    """No connection could be made to the registry."""


class DigestMismatch(RegistryError):
    """Content did not hash to the digest it was asked for by."""


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def of_this_node(cls) -> Platform:
        machine = platform.machine()
        architecture, variant = _ARCHITECTURES.get(machine, (machine, None))
        return cls(os="linux", architecture=architecture, variant=variant)

    def matches(self, descriptor_platform: Mapping[str, Any]) -> bool:
        offered = descriptor_platform.get("os"), descriptor_platform.get("architecture")
        if offered != (self.os, self.architecture):
            return False
        return self.variant is None or descriptor_platform.get("variant") in (None, self.variant)


@dataclass(frozen=True)
class Manifest:
    """A single-platform image manifest and the digest that names its exact bytes."""

    digest: str
    media_type: str
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.raw)
        return parsed


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def select_platform(index: Mapping[str, Any], wanted: Platform) -> dict[str, Any]:
    """The descriptor in an image index for `wanted`, or RegistryError listing what the index offers."""
    manifests: list[dict[str, Any]] = index.get("manifests", [])
    for descriptor in manifests:
        if wanted.matches(descriptor.get("platform", {})):
            return descriptor
    offered = sorted({f"{m.get('platform', {}).get('os')}/{m.get('platform', {}).get('architecture')}"
                      for m in manifests})
    raise RegistryError(f"no image for platform {wanted.os}/{wanted.architecture} (index offers {offered})",
                        code="PLATFORM_NOT_FOUND")


async def _error_from(response: aiohttp.ClientResponse, what: str) -> RegistryError:
    body = await response.read()
    try:
        errors = orjson.loads(body).get("errors") or []
        first = errors[0]
        return RegistryError(f"{what}: {first.get('code')}: {first.get('message')}",
                             code=str(first.get("code", "")), status=response.status)
    except (orjson.JSONDecodeError, AttributeError, IndexError, TypeError):
        return RegistryError(f"{what}: HTTP {response.status} {response.reason}", status=response.status)


class RegistryClient:
    """Pulls manifests and blobs; one instance per node, sharing connections and tokens across pulls."""

    def __init__(self, *, insecure_registries: Iterable[str] = (), node_platform: Platform | None = None,
                 timeout: float = 30.0) -> None:
        self._insecure = frozenset(insecure_registries)
        self.platform = node_platform or Platform.of_this_node()
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._tokens: dict[tuple[str, str], str] = {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _url(self, ref: ImageReference, path: str) -> str:
        scheme = "http" if ref.registry in self._insecure else "https"
        return f"{scheme}://{ref.api_host}/v2/{ref.repository}/{path}"

    async def _request(self, ref: ImageReference, path: str,
                       headers: dict[str, str]) -> aiohttp.ClientResponse:
        """GET `path` for `ref`, fetching an anonymous Bearer token once if the registry asks for one."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        scope = f"repository:{ref.repository}:pull"
        for attempt in range(2):
            token = self._tokens.get((ref.registry, scope))
            sent = {**headers, **({"Authorization": f"Bearer {token}"} if token else {})}
            try:
                response = await self._session.get(self._url(ref, path), headers=sent)
            except (aiohttp.ClientConnectionError, TimeoutError) as error:
                raise RegistryUnreachable(f"cannot reach registry {ref.api_host}: {_why(error)}") from error
            if response.status != 401 or attempt == 1:
                return response
            challenge = response.headers.get("WWW-Authenticate", "")
            response.release()
            if not challenge.lower().startswith("bearer "):
                raise RegistryError(f"registry {ref.api_host} needs credentials ({challenge or '-'})",
                                    code="UNAUTHORIZED", status=401)
            self._tokens[(ref.registry, scope)] = await self._fetch_token(challenge, scope)
        raise AssertionError("unreachable: the loop returns on its second attempt")

    async def _fetch_token(self, challenge: str, default_scope: str) -> str:
        assert self._session is not None
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = params.pop("realm", "")
        if not realm:
            raise RegistryError(f"Bearer challenge without a realm: {challenge}", code="UNAUTHORIZED")
        query = {key: value for key, value in params.items() if key in ("service", "scope")}
        query.setdefault("scope", default_scope)
        try:
            async with self._session.get(realm, params=query) as response:
                if response.status != 200:
                    raise await _error_from(response, f"token server {realm}")
                body = orjson.loads(await response.read())
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise RegistryUnreachable(f"cannot reach token server {realm}: {_why(error)}") from error
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"token server {realm} returned no token", code="UNAUTHORIZED")
        return token

    async def _get_raw_manifest(self, ref: ImageReference, reference: str) -> tuple[str, str, bytes]:
        response = await self._request(ref, f"manifests/{reference}", {"Accept": ACCEPT})
        async with response:
            if response.status != 200:
                raise await _error_from(response, f"pulling manifest {ref.name}:{reference}")
            raw = await response.read()
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        digest = sha256_digest(raw)
        if reference.startswith("sha256:") and digest != reference:
            raise DigestMismatch(f"manifest {ref.name}@{reference} hashed to {digest}", code="DIGEST_INVALID")
        return digest, media_type or orjson.loads(raw).get("mediaType", ""), raw

    async def get_manifest(self, ref: ImageReference) -> Manifest:
        """The image manifest for `ref`; an index is resolved to the entry for this node's platform."""
        digest, media_type, raw = await self._get_raw_manifest(ref, ref.pull_reference)
        if media_type in INDEX_TYPES:
            descriptor = select_platform(orjson.loads(raw), self.platform)
            digest, media_type, raw = await self._get_raw_manifest(ref, descriptor["digest"])
        if media_type not in MANIFEST_TYPES:
            raise RegistryError(f"{ref}: unsupported manifest type {media_type!r}",
                                code="MANIFEST_UNSUPPORTED")
        return Manifest(digest=digest, media_type=media_type, raw=raw)

    async def fetch_blob(self, ref: ImageReference, digest: str, destination: Path, *,
                         progress: ProgressHook | None = None) -> None:
        """Stream blob `digest` to `destination`; it appears there only once its sha256 checked out."""
        algorithm, _, expected = digest.partition(":")
        if algorithm != "sha256":
            raise RegistryError(f"unsupported digest algorithm in {digest}", code="DIGEST_INVALID")
        response = await self._request(ref, f"blobs/{digest}", {})
        async with response:
            if response.status != 200:
                raise await _error_from(response, f"pulling blob {digest} of {ref.name}")
            destination.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".tmp-{expected[:12]}-")
            try:
                total, done, hasher = response.content_length, 0, hashlib.sha256()
                with os.fdopen(descriptor, "wb") as out:
                    async for chunk in response.content.iter_chunked(_CHUNK):
                        out.write(chunk)
                        hasher.update(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(digest, done, total)
                if hasher.hexdigest() != expected:
                    raise DigestMismatch(f"blob {digest} of {ref.name} hashed to sha256:{hasher.hexdigest()}",
                                         code="DIGEST_INVALID")
                os.replace(temporary, destination)
            except aiohttp.ClientError as error:
                os.unlink(temporary)
                raise RegistryError(f"pulling blob {digest} of {ref.name} failed: {error}") from error
            except BaseException:
                os.unlink(temporary)
                raise
