"""Starting, restarting and failing to start: state in the data dir survives, failures are explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.apiserver.server import ApiServer, ApiServerConfig, StartupError, run


async def _namespace_revisions(server: ApiServer) -> dict[str, int]:
    listed = await server.store.list("/registry/core/namespaces/")
    return {kv.key: kv.mod_revision for kv in listed.items}


async def test_restart_reuses_ca_token_and_data(tmp_path: Path) -> None:
    first = await run(ApiServerConfig(data_dir=tmp_path, port=0))
    try:
        ca, token = first.ca_cert_path.read_bytes(), first.token
        assert first.kubeconfig_path == tmp_path / "kubeconfig.yaml"
        assert (first.kubeconfig_path.stat().st_mode & 0o777) == 0o600
        namespaces = await _namespace_revisions(first)
    finally:
        await first.stop()
    second = await run(ApiServerConfig(data_dir=tmp_path, port=0))
    try:
        assert second.ca_cert_path.read_bytes() == ca and second.token == token
        assert await _namespace_revisions(second) == namespaces  # the system namespaces were not re-created
        assert second.token in second.kubeconfig_path.read_text()
    finally:
        await second.stop()


async def test_port_in_use_is_a_startup_error(tmp_path: Path) -> None:
    first = await run(ApiServerConfig(data_dir=tmp_path / "a", port=0))
    try:
        with pytest.raises(StartupError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            await run(ApiServerConfig(data_dir=tmp_path / "b", port=first.port))
    finally:
        await first.stop()


async def test_bad_service_cidr_is_a_startup_error(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="invalid service CIDR"):
        await run(ApiServerConfig(data_dir=tmp_path, port=0, service_cidr="not-a-cidr"))
