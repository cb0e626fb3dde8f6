"""`kubelite image import/ls/rm` with docker-save and OCI archives made by skopeo from a umoci image."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from click.testing import CliRunner

from kubelite.cli.image import image_store
from kubelite.cli.main import cli
from tests.support.registry import skopeo_copy


def kubelite(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["image", *args])
    return result.exit_code, result.output


def test_import_docker_save_and_oci_archives_then_ls_and_rm(busybox_layout: Path, tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    docker_save, oci_archive = tmp_path / "saved.tar", tmp_path / "oci.tar"
    skopeo_copy(f"oci:{busybox_layout}:latest", f"docker-archive:{docker_save}:busybox:latest")
    skopeo_copy(f"oci:{busybox_layout}:marked", f"oci-archive:{oci_archive}:example.com/team/busybox:marked")

    code, output = kubelite("import", "--data-dir", data_dir, str(docker_save))
    assert code == 0, output
    assert output.startswith("Imported docker.io/library/busybox:latest (sha256:")
    code, output = kubelite("import", "-d", data_dir, str(oci_archive))
    assert code == 0, output
    assert output.startswith("Imported example.com/team/busybox:marked (sha256:")

    store = image_store(Path(data_dir))
    saved = store.get("busybox:latest")
    marked = store.get("example.com/team/busybox:marked")
    assert saved is not None and marked is not None
    assert os.readlink(store.unpack(saved)[0] / "bin/sh") == "/bin/busybox"
    assert (store.unpack(marked)[-1] / "marker").read_text() == "marked\n"

    code, output = kubelite("ls", "-d", data_dir)
    header, *rows = output.splitlines()
    assert header.split() == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"]
    assert [row.split()[:3] for row in rows] == [
        ["docker.io/library/busybox", "latest", saved.config_digest[7:20]],
        ["example.com/team/busybox", "marked", marked.config_digest[7:20]]]
    assert rows[0].split()[3].endswith("MB")

    code, output = kubelite("rm", "-d", data_dir, "busybox")
    assert (code, output) == (0, "Deleted: docker.io/library/busybox:latest\n")
    assert not store.has_blob(saved.manifest_digest)  # removal frees the space at once
    code, output = kubelite("rm", "-d", data_dir, "busybox")
    assert code == 1 and "image 'busybox' is not present on this node" in output
    assert [record.reference for record in store.list()] == ["example.com/team/busybox:marked"]


def test_an_oci_layout_named_only_by_tag_needs_a_base_name(busybox_layout: Path, tmp_path: Path) -> None:
    archive = tmp_path / "layout.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(busybox_layout, arcname=".")
    code, output = kubelite("import", "-d", str(tmp_path / "data"), str(archive))
    assert code == 1 and "only by tag 'latest'; give a base name" in output
    code, output = kubelite("import", "-d", str(tmp_path / "data"), "--base-name", "127.0.0.1:5000/bb",
                            str(archive))
    assert code == 0, output
    assert sorted(line.split()[1] for line in output.splitlines()) == [
        "127.0.0.1:5000/bb:latest", "127.0.0.1:5000/bb:marked"]


def test_a_file_that_is_no_image_archive_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar"
    with tarfile.open(bogus, "w") as tar:
        tar.add(__file__, arcname="readme")
    code, output = kubelite("import", "-d", str(tmp_path / "data"), str(bogus))
    assert code == 1 and "neither a docker-save archive" in output
