"""The CA and serving certificate: made once, reused, re-issued when the names change."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

from cryptography import x509

from kubelite.apiserver import credentials, tls


def _sans(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)} | set(
        ext.get_values_for_type(x509.DNSName)
    )


def test_certificates_are_created_then_reused(tmp_path: Path) -> None:
    names = tls.serving_names(
        bind_address="0.0.0.0", advertise_address="10.0.0.5", service_ip="10.43.0.1", extra=()
    )
    files = tls.ensure_certificates(tmp_path / "tls", names)
    assert {"127.0.0.1", "localhost", "10.0.0.5", "10.43.0.1", "kubernetes.default.svc"} <= _sans(
        files.serving_cert
    )
    assert "0.0.0.0" not in _sans(files.serving_cert)
    assert stat.S_IMODE(files.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.serving_key.stat().st_mode) == 0o600

    ca_before, serving_before = files.ca_cert.read_bytes(), files.serving_cert.read_bytes()
    tls.ensure_certificates(tmp_path / "tls", names)
    assert files.serving_cert.read_bytes() == serving_before  # same names: reused

    tls.ensure_certificates(tmp_path / "tls", [*names, "192.168.1.9"])
    assert files.ca_cert.read_bytes() == ca_before  # the CA never changes
    assert "192.168.1.9" in _sans(files.serving_cert)

    # Still signed by the original CA, and loadable as a server certificate.
    cert = x509.load_pem_x509_certificate(files.serving_cert.read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_before))
    assert tls.server_ssl_context(files).minimum_version == ssl.TLSVersion.TLSv1_2


def test_admin_token_and_kubeconfig(tmp_path: Path) -> None:
    token = credentials.ensure_admin_token(tmp_path / "server" / "token")
    assert len(token) == 64 and credentials.ensure_admin_token(tmp_path / "server" / "token") == token
    assert stat.S_IMODE((tmp_path / "server" / "token").stat().st_mode) == 0o600
    kubeconfig = tmp_path / "kubeconfig.yaml"
    credentials.write_kubeconfig(kubeconfig, server_url="https://127.0.0.1:6443", ca_pem=b"PEM", token=token)
    text = kubeconfig.read_text()
    assert token in text and "certificate-authority-data: UEVN" in text
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
