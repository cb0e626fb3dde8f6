"""The admin bearer token and the admin kubeconfig written next to the data.

The token is random, made once and kept in `<data-dir>/server/token` (0600); `<data-dir>/kubeconfig.yaml`
(0600) carries it with the CA, so `KUBECONFIG=<data-dir>/kubeconfig.yaml kubectl ...` just works.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import yaml


def _write_private(path: Path, data: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def ensure_admin_token(path: Path) -> str:
    """The admin token, created on first use."""
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(32)
    _write_private(path, token + "\n")
    return token


def kubeconfig_text(*, server_url: str, ca_pem: bytes, token: str, user: str = "admin") -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kubelite",
                "cluster": {
                    "server": server_url,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "kubelite", "context": {"cluster": "kubelite", "user": user}}],
        "current-context": "kubelite",
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_kubeconfig(path: Path, *, server_url: str, ca_pem: bytes, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, kubeconfig_text(server_url=server_url, ca_pem=ca_pem, token=token))
