"""The agent's serving certificate: self-signed, as a kubelet without a bootstrap CSR has.

It runs as `python -m kubelite.agent.server.certs PKI NODE [NAME...]`: the `cryptography` package costs a
process about 15 MB it never gives back, and a node agent needs it only for this, once at start.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=365)


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _covers(cert_path: Path, names: list[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} | set(
        sans.get_values_for_type(x509.DNSName)
    )
    now = datetime.datetime.now(datetime.UTC)
    return {str(_san(n).value) for n in names} <= have and cert.not_valid_after_utc - now > _VALIDITY / 4


def ensure_serving_cert(pki: Path, node_name: str, names: list[str]) -> tuple[Path, Path]:
    """`<pki>/agent.crt` and `agent.key`, re-issued when the names (node IPs and host names) change."""
    cert_path, key_path = pki / "agent.crt", pki / "agent.key"
    names = list(dict.fromkeys([*names, node_name]))
    if key_path.exists() and _covers(cert_path, names):
        return cert_path, key_path
    pki.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{node_name}@kubelite-agent")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def main(argv: list[str]) -> None:
    pki, node_name, *names = argv
    ensure_serving_cert(Path(pki), node_name, names)


if __name__ == "__main__":
    main(sys.argv[1:])
