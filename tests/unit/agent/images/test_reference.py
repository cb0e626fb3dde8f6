"""Image references normalise as containerd does for the kubelet; bad names fail before any pull."""

from __future__ import annotations

import pytest

from kubelite.agent.images.reference import InvalidImageName, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest", "normalised"), [
    ("busybox", "docker.io", "library/busybox", "latest", None, "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None, "docker.io/library/busybox:1.36"),
    ("bitnami/nginx", "docker.io", "bitnami/nginx", "latest", None, "docker.io/bitnami/nginx:latest"),
    ("docker.io/busybox", "docker.io", "library/busybox", "latest", None, "docker.io/library/busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", None,
     "docker.io/library/busybox:latest"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io", "pause", "3.10", None, "registry.k8s.io/pause:3.10"),
    ("127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest", None, "127.0.0.1:5000/busybox:latest"),
    ("localhost/team/app:v1", "localhost", "team/app", "v1", None, "localhost/team/app:v1"),
    ("localhost:5000/a/b/c:v_1.0-rc", "localhost:5000", "a/b/c", "v_1.0-rc", None,
     "localhost:5000/a/b/c:v_1.0-rc"),
    (f"busybox@{DIGEST}", "docker.io", "library/busybox", None, DIGEST,
     f"docker.io/library/busybox@{DIGEST}"),
    (f"ghcr.io/o/app:v2@{DIGEST}", "ghcr.io", "o/app", "v2", DIGEST, f"ghcr.io/o/app:v2@{DIGEST}"),
    ("my_org/my-app__x", "docker.io", "my_org/my-app__x", "latest", None,
     "docker.io/my_org/my-app__x:latest"),
])
def test_valid_references_normalise(text: str, registry: str, repository: str, tag: str | None,
                                    digest: str | None, normalised: str) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert str(ref) == normalised
    assert parse_reference(str(ref)) == ref


def test_pull_reference_prefers_the_digest_and_docker_hub_uses_its_api_host() -> None:
    assert parse_reference(f"busybox:1.36@{DIGEST}").pull_reference == DIGEST
    assert parse_reference("busybox").api_host == "registry-1.docker.io"
    assert parse_reference("127.0.0.1:5000/x").api_host == "127.0.0.1:5000"


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("Busybox", "lowercase"),
    ("busy box", "whitespace"),
    ("busybox:", "invalid tag"),
    ("busybox:-bad", "invalid tag"),
    ("busybox:" + "t" * 129, "invalid tag"),
    ("busybox@sha256:abc", "malformed digest"),
    ("busybox@md5:" + "a" * 32, "malformed digest"),
    ("-lead/app", "lowercase"),
    ("app//x", "lowercase"),
    ("app/", "lowercase"),
    ("bad_host.io:port/app", "invalid registry"),
    ("my-.registry.io/app", "invalid registry"),
    ("a" * 300, "over 255"),
])
def test_invalid_references_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidImageName, match=reason):
        parse_reference(text)
