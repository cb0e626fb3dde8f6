"""A real docker-registry on 127.0.0.1 holding tiny busybox images built with umoci and pushed with skopeo."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry import LocalRegistry, build_busybox_layout, skopeo_copy


@dataclass(frozen=True)
class PushedImages:
    registry: LocalRegistry
    layout: Path  # OCI layout with tags "latest" (busybox) and "marked" (busybox plus /marker)

    def ref(self, name: str) -> str:
        return f"{self.registry.host}/{name}"


@pytest.fixture(scope="module")
def busybox_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OCI layout with tags "latest" (busybox) and "marked" (busybox plus /marker)."""
    layout = build_busybox_layout(tmp_path_factory.mktemp("layout") / "oci")
    return build_busybox_layout(layout, tag="marked", files={"marker": "marked\n"})


@pytest.fixture(scope="module")
def pushed_images(tmp_path_factory: pytest.TempPathFactory, busybox_layout: Path) -> Iterator[PushedImages]:
    layout = busybox_layout
    with LocalRegistry(tmp_path_factory.mktemp("registry")) as registry:
        skopeo_copy(f"oci:{layout}:latest", f"docker://{registry.host}/busybox:latest")
        skopeo_copy(f"oci:{layout}:marked", f"docker://{registry.host}/busybox:marked")
        yield PushedImages(registry=registry, layout=layout)
