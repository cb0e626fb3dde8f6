"""Image references parsed the way Kubernetes and containerd read them.

`busybox` means `docker.io/library/busybox:latest`; a bad name must fail here, before any network traffic,
because the kubelet reports it as InvalidImageName rather than a pull error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
# Docker Hub's API lives on a different host than the name users write.
DOCKER_HUB_API_HOST = "registry-1.docker.io"

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$")
MAX_NAME_LENGTH = 255


class InvalidImageName(ValueError):
    """The reference cannot name an image (the kubelet's InvalidImageName)."""


@dataclass(frozen=True)
class ImageReference:
    """A fully-qualified reference: registry, repository, and a tag and/or digest."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """`registry/repository`, the familiar-name-independent form."""
        return f"{self.registry}/{self.repository}"

    @property
    def api_host(self) -> str:
        """Host:port that serves the distribution API for this registry."""
        return DOCKER_HUB_API_HOST if self.registry == DEFAULT_REGISTRY else self.registry

    @property
    def pull_reference(self) -> str:
        """What to ask the registry's manifests endpoint for: the digest wins over the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _looks_like_registry(first: str) -> bool:
    # containerd's rule: the first component is a host if it has a dot, a port, or is localhost.
    return "." in first or ":" in first or first == "localhost" or first.startswith("[")


def parse_reference(text: str) -> ImageReference:
    """Parse `text` into a normalized reference, raising InvalidImageName with the reason."""
    if not text:
        raise InvalidImageName("image reference is empty")
    if text != text.strip() or any(ch.isspace() for ch in text):
        raise InvalidImageName(f"invalid reference format: {text!r} contains whitespace")
    remainder, digest = text, None
    if "@" in remainder:
        remainder, digest = remainder.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidImageName(f"invalid reference format: {text!r} has a malformed digest {digest!r}")
    tag = None
    slash, colon = remainder.rfind("/"), remainder.rfind(":")
    if colon > slash:
        remainder, tag = remainder[:colon], remainder[colon + 1:]
        if not _TAG.match(tag):
            raise InvalidImageName(f"invalid reference format: {text!r} has an invalid tag {tag!r}")
    parts = remainder.split("/")
    registry = DEFAULT_REGISTRY
    if len(parts) > 1 and _looks_like_registry(parts[0]):
        registry = parts.pop(0)
        if not _HOST.match(registry):
            raise InvalidImageName(f"invalid reference format: {text!r} has an invalid registry {registry!r}")
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DEFAULT_REGISTRY
    for component in parts:
        if not _COMPONENT.match(component):
            raise InvalidImageName(
                f"invalid reference format: repository name {'/'.join(parts)!r} in {text!r} must be "
                "lowercase alphanumerics separated by '.', '_', '__' or '-'"
            )
    if registry == DEFAULT_REGISTRY and len(parts) == 1:
        parts.insert(0, "library")
    repository = "/".join(parts)
    if len(registry) + 1 + len(repository) > MAX_NAME_LENGTH:
        raise InvalidImageName(f"invalid reference format: {text!r} is over {MAX_NAME_LENGTH} characters")
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return ImageReference(registry=registry, repository=repository, tag=tag, digest=digest)
