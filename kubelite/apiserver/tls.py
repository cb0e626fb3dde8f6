"""The cluster CA and the API server's serving certificate.

Generated on the first start into `<data-dir>/server/tls/` and reused afterwards, so kubeconfigs handed out
earlier keep working across restarts. The serving certificate is re-issued (by the same CA) when the names it
must cover change, e.g. a new bind address.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CA_VALIDITY = datetime.timedelta(days=3650)
_SERVING_VALIDITY = datetime.timedelta(days=365)
# Re-issue the serving certificate when less than this much of its life is left.
_RENEW_BEFORE = datetime.timedelta(days=90)


@dataclass(frozen=True, slots=True)
class TLSFiles:
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path

    @classmethod
    def under(cls, directory: Path) -> TLSFiles:
        return cls(
            directory / "ca.crt", directory / "ca.key", directory / "serving.crt", directory / "serving.key"
        )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _new_ca(files: TLSFiles) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"kubelite-server-ca@{int(_now().timestamp())}")]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(files.ca_key, _key_pem(key))
    files.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _san_entries(names: Iterable[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):  # keep order, drop duplicates
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def _current_sans(cert: x509.Certificate) -> set[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)} | set(
        ext.get_values_for_type(x509.DNSName)
    )


def _serving_is_current(files: TLSFiles, names: list[str], ca: x509.Certificate) -> bool:
    if not (files.serving_cert.exists() and files.serving_key.exists()):
        return False
    cert = x509.load_pem_x509_certificate(files.serving_cert.read_bytes())
    wanted = {str(ipaddress.ip_address(n)) if _is_ip(n) else n for n in names}
    return (
        cert.issuer == ca.subject
        and cert.not_valid_after_utc - _now() > _RENEW_BEFORE
        and wanted <= _current_sans(cert)
    )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _issue(
    files: TLSFiles,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    destination: tuple[Path, Path],
    extensions: Iterable[x509.ExtensionType] = (),
) -> None:
    """A leaf certificate from the cluster CA, written to `destination` (certificate, key)."""
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{files.ca_key} is not an EC private key")
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _SERVING_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_path, key_path = destination
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _new_serving(files: TLSFiles, names: list[str]) -> None:
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    _issue(
        files,
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        ExtendedKeyUsageOID.SERVER_AUTH,
        (files.serving_cert, files.serving_key),
        [
            x509.SubjectAlternativeName(_san_entries(names)),
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
        ],
    )


def ensure_certificates(directory: Path, names: list[str]) -> TLSFiles:
    """Create the CA once, and a serving certificate covering `names` (IPs and DNS names) when needed."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    files = TLSFiles.under(directory)
    if not (files.ca_cert.exists() and files.ca_key.exists()):
        _new_ca(files)
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    if not _serving_is_current(files, names, ca):
        _new_serving(files, names)
    return files


def server_ssl_context(files: TLSFiles) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(files.serving_cert, files.serving_key)
    return ctx


def serving_names(
    *, bind_address: str, advertise_address: str | None, service_ip: str, extra: Iterable[str]
) -> list[str]:
    """Every name a client may use to reach the server: loopback, the node's address, the in-cluster names."""
    names = ["127.0.0.1", "localhost", "::1"]
    for address in (bind_address, advertise_address):
        if address and address not in ("0.0.0.0", "::"):
            names.append(address)
    names += [
        service_ip,
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    names += list(extra)
    return list(dict.fromkeys(names))


def _new_kubelet_client(files: TLSFiles, cert_path: Path, key_path: Path) -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver-kubelet-client"),
        ]
    )
    _issue(files, subject, ExtendedKeyUsageOID.CLIENT_AUTH, (cert_path, key_path))


def kubelet_client_context(files: TLSFiles) -> ssl.SSLContext:
    """The client side of the API server's connections to node agents: a certificate for
    CN=kube-apiserver-kubelet-client, O=system:masters from the cluster CA (issued next to it once, renewed
    with the serving certificate's rule). Agents' self-signed serving certificates are not verified, as
    upstream does without --kubelet-certificate-authority."""
    cert_path, key_path = (
        files.ca_cert.with_name("kubelet-client.crt"),
        files.ca_key.with_name("kubelet-client.key"),
    )
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    current = False
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        current = cert.issuer == ca.subject and cert.not_valid_after_utc - _now() > _RENEW_BEFORE
    if not current:
        _new_kubelet_client(files, cert_path, key_path)
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(cert_path, key_path)
    return ctx
