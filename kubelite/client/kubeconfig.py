"""Reading a kubeconfig: where the API server is, how to trust it and how to prove who we are.

Every component reaches the API server the way a remote process would, so they all start from a kubeconfig
file. Supported: the current (or a named) context; `server`, `certificate-authority(-data)`,
`insecure-skip-tls-verify`, `tls-server-name`; `token`, `tokenFile`, `client-certificate(-data)` and
`client-key(-data)`. Relative file paths are relative to the kubeconfig's folder, as in client-go. Not
supported: exec/auth-provider plugins, basic auth, and merging several files named in $KUBECONFIG (the first
one is read).
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class KubeConfigError(ValueError):
    """The kubeconfig is missing, unreadable or lacks what a client needs."""


@dataclass(frozen=True)
class KubeConfig:
    server: str
    ca_data: bytes | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    token: str | None = None
    token_file: Path | None = None
    client_cert_data: bytes | None = None
    client_key_data: bytes | None = None
    _token_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS settings for an https server (None for plain http)."""
        if not self.server.startswith("https://"):
            return None
        # As in client-go, a cluster CA is the *only* trusted root; the system's roots count only without one.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            if self.insecure_skip_tls_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif self.ca_data is not None:
                context.load_verify_locations(cadata=self.ca_data.decode())
            else:
                context.load_default_certs()
            if self.client_cert_data is not None and self.client_key_data is not None:
                _load_client_certificate(context, self.client_cert_data, self.client_key_data)
        except (ssl.SSLError, ValueError) as exc:
            raise KubeConfigError(f"unusable TLS material in the kubeconfig: {exc}") from exc
        return context

    def bearer_token(self) -> str | None:
        """The token to send; a token file is re-read when it changes, so rotated tokens are picked up."""
        if self.token:
            return self.token
        if self.token_file is None:
            return None
        try:
            mtime = self.token_file.stat().st_mtime_ns
            if self._token_cache.get("mtime") != mtime:
                self._token_cache.update(mtime=mtime, token=self.token_file.read_text().strip())
        except OSError as exc:
            raise KubeConfigError(f"cannot read token file {self.token_file}: {exc}") from exc
        token: str = self._token_cache["token"]
        return token or None


def _load_client_certificate(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl only loads certificate chains from files: write them to a private temp dir for the moment it takes.
    with tempfile.TemporaryDirectory(prefix="kubelite-tls-") as tmp:
        cert_path, key_path = Path(tmp, "client.crt"), Path(tmp, "client.key")
        for path, data in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        context.load_cert_chain(cert_path, key_path)


def default_path() -> Path:
    """$KUBECONFIG (its first entry) or ~/.kube/config."""
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), "")
    return Path(first) if first else Path.home() / ".kube" / "config"


def load(path: str | os.PathLike[str] | None = None, *, context: str | None = None) -> KubeConfig:
    """Read the kubeconfig at `path` (default: `default_path()`) for `context` (default: current-context)."""
    file = Path(path) if path is not None else default_path()
    try:
        doc = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise KubeConfigError(f"cannot read kubeconfig {file}: {exc}") from exc
    if not isinstance(doc, dict):
        raise KubeConfigError(f"kubeconfig {file} is not a mapping")
    return from_dict(doc, base_dir=file.parent, context=context)


def _named(doc: dict[str, Any], section: str, name: str, entry: str) -> dict[str, Any]:
    for item in doc.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            value = item.get(entry) or {}
            if not isinstance(value, dict):
                raise KubeConfigError(f"{section} entry {name!r} is not a mapping")
            return value
    raise KubeConfigError(f"kubeconfig has no {entry} named {name!r}")


def _data(section: dict[str, Any], key: str, base_dir: Path) -> bytes | None:
    """`<key>-data` (base64) wins over `<key>` (a file path)."""
    inline = section.get(f"{key}-data")
    if inline:
        try:
            return base64.b64decode(inline, validate=True)
        except ValueError as exc:
            raise KubeConfigError(f"{key}-data is not valid base64") from exc
    path = section.get(key)
    if not path:
        return None
    try:
        return (base_dir / str(path)).read_bytes()
    except OSError as exc:
        raise KubeConfigError(f"cannot read {key} {path}: {exc}") from exc


def from_dict(doc: dict[str, Any], *, base_dir: Path, context: str | None = None) -> KubeConfig:
    context_name = context or doc.get("current-context")
    if not context_name:
        raise KubeConfigError("kubeconfig has no current-context and none was asked for")
    ctx = _named(doc, "contexts", context_name, "context")
    cluster = _named(doc, "clusters", str(ctx.get("cluster", "")), "cluster")
    user = _named(doc, "users", str(ctx["user"]), "user") if ctx.get("user") else {}
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise KubeConfigError(f"cluster of context {context_name!r} has no http(s) server URL")
    token_file = user.get("tokenFile")
    return KubeConfig(
        server=server,
        ca_data=_data(cluster, "certificate-authority", base_dir),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        tls_server_name=cluster.get("tls-server-name"),
        token=user.get("token") or None,
        token_file=base_dir / token_file if token_file else None,
        client_cert_data=_data(user, "client-certificate", base_dir),
        client_key_data=_data(user, "client-key", base_dir),
    )
