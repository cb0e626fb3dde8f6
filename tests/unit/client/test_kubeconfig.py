"""Reading kubeconfigs: contexts, inline and file credentials, token rotation, TLS settings, clear errors."""

from __future__ import annotations

import base64
import datetime
import os
import ssl
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.client import kubeconfig
from kubelite.client.kubeconfig import KubeConfigError


def self_signed(common_name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def two_contexts(ca: bytes, cert: bytes, key: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "inline",
                "cluster": {"server": "https://127.0.0.1:6443/", "certificate-authority-data": b64(ca)},
            },
            {
                "name": "files",
                "cluster": {
                    "server": "https://localhost:7443",
                    "certificate-authority": "ca.crt",
                    "tls-server-name": "kubernetes",
                },
            },
        ],
        "users": [
            {"name": "admin", "user": {"token": "t0k3n"}},
            {
                "name": "node",
                "user": {
                    "tokenFile": "secrets/token",
                    "client-certificate-data": b64(cert),
                    "client-key-data": b64(key),
                },
            },
        ],
        "contexts": [
            {"name": "main", "context": {"cluster": "inline", "user": "admin"}},
            {"name": "agent", "context": {"cluster": "files", "user": "node"}},
        ],
        "current-context": "main",
    }


def test_current_context_with_inline_ca_and_token(tmp_path: Path) -> None:
    ca, key = self_signed("kubelite-ca")
    config = kubeconfig.load(write(tmp_path / "config", two_contexts(ca, ca, key)))
    assert config.server == "https://127.0.0.1:6443"
    assert config.bearer_token() == "t0k3n"
    context = config.ssl_context()
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1


def test_named_context_with_relative_files_and_a_rotating_token(tmp_path: Path) -> None:
    ca, _ = self_signed("kubelite-ca")
    client_cert, client_key = self_signed("system:node:n1")
    (tmp_path / "ca.crt").write_bytes(ca)
    (tmp_path / "secrets").mkdir()
    token_file = tmp_path / "secrets" / "token"
    token_file.write_text("first\n")
    path = write(tmp_path / "config", two_contexts(ca, client_cert, client_key))
    config = kubeconfig.load(path, context="agent")
    assert config.server == "https://localhost:7443" and config.tls_server_name == "kubernetes"
    assert config.ca_data == ca and config.client_cert_data == client_cert
    assert config.bearer_token() == "first"
    token_file.write_text("second\n")
    stat = token_file.stat()
    os.utime(token_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert config.bearer_token() == "second"
    assert config.ssl_context() is not None  # the client certificate and key load


def test_insecure_and_plain_http(tmp_path: Path) -> None:
    doc = {
        "clusters": [
            {"name": "c", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}
        ],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    insecure = kubeconfig.from_dict(doc, base_dir=tmp_path)
    context = insecure.ssl_context()
    assert context is not None and context.verify_mode == ssl.CERT_NONE and insecure.bearer_token() is None
    doc["clusters"][0]["cluster"] = {"server": "http://127.0.0.1:8080"}  # type: ignore[index]
    assert kubeconfig.from_dict(doc, base_dir=tmp_path).ssl_context() is None


def test_default_path_follows_kubeconfig_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(["", str(tmp_path / "a"), str(tmp_path / "b")]))
    assert kubeconfig.default_path() == tmp_path / "a"
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert kubeconfig.default_path() == tmp_path / ".kube" / "config"


def test_problems_are_reported_plainly(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match="cannot read kubeconfig"):
        kubeconfig.load(tmp_path / "missing")
    ca, key = self_signed("ca")
    doc = two_contexts(ca, ca, key)
    with pytest.raises(KubeConfigError, match="no context named 'nope'"):
        kubeconfig.from_dict(doc, base_dir=tmp_path, context="nope")
    with pytest.raises(KubeConfigError, match="cannot read certificate-authority"):
        kubeconfig.from_dict(doc, base_dir=tmp_path, context="agent")  # ca.crt is not there
    doc["clusters"][0]["cluster"]["server"] = "127.0.0.1:6443"
    with pytest.raises(KubeConfigError, match="server URL"):
        kubeconfig.from_dict(doc, base_dir=tmp_path)
    doc["clusters"][0]["cluster"] = {"server": "https://x", "certificate-authority-data": "%%%"}
    with pytest.raises(KubeConfigError, match="base64"):
        kubeconfig.from_dict(doc, base_dir=tmp_path)
    doc["clusters"][0]["cluster"] = {"server": "https://x", "certificate-authority-data": b64(b"not a cert")}
    with pytest.raises(KubeConfigError, match="unusable TLS"):
        kubeconfig.from_dict(doc, base_dir=tmp_path).ssl_context()
    with pytest.raises(KubeConfigError, match="current-context"):
        kubeconfig.from_dict({"contexts": []}, base_dir=tmp_path)
