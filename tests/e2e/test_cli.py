"""The `kubelite` command as a user runs it: help, version, and start-up failures that must be clear."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.etcd import free_port

KUBELITE = [sys.executable, "-m", "kubelite"]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KUBELITE, *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "server" in result.stdout and "version" in result.stdout


def test_version_names_the_kubernetes_version() -> None:
    result = run("version")
    assert result.returncode == 0
    assert "Kubernetes v1.32" in result.stdout


def test_server_help_uses_k3s_flag_names() -> None:
    result = run("server", "--help")
    for flag in ("--data-dir", "--datastore-endpoint", "--bind-address", "--https-listen-port", "--node-ip",
                 "--service-cidr"):
        assert flag in result.stdout


def test_corrupt_database_fails_clearly(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    db.write_bytes(b"this is not a SQLite database" * 100)
    result = run("server", "--data-dir", str(tmp_path), "--datastore-endpoint", f"sqlite://{db}",
                 "--https-listen-port", str(free_port()))
    assert result.returncode != 0
    assert str(db) in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_database_path_fails_clearly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    result = run("server", "--data-dir", str(tmp_path), "--datastore-endpoint", f"sqlite://{blocker}/sub/state.db",
                 "--https-listen-port", str(free_port()))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "state.db" in result.stderr


def test_unreachable_etcd_fails_clearly(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    result = run("server", "--data-dir", str(tmp_path), "--datastore-endpoint", f"etcd://127.0.0.1:{port}",
                 "--https-listen-port", str(free_port()), timeout=60)
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_endpoint_scheme_fails_clearly(tmp_path: Path) -> None:
    result = run("server", "--data-dir", str(tmp_path), "--datastore-endpoint", "mysql://x")
    assert result.returncode != 0
    assert "mysql" in result.stderr and "Traceback" not in result.stderr


def test_server_help_describes_the_node_port_range() -> None:
    result = run("server", "--help")
    assert result.returncode == 0
    help_text = " ".join(result.stdout.split())
    assert "--service-node-port-range TEXT" in help_text
    assert "Port range reserved for services with NodePort visibility. [default: 30000-32767]" in help_text
