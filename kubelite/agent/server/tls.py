"""The agent's TLS: its serving certificate, made by a short-lived child process (kubelite.agent.server.certs,
so this long-lived one never loads `cryptography`), and a context that demands a client certificate issued
by the cluster CA: only the API server may stream."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path


class CertificateError(Exception):
    """The serving certificate could not be made."""


async def ensure_serving_cert(pki: Path, node_name: str, names: Sequence[str]) -> tuple[Path, Path]:
    """`<pki>/agent.crt` and `agent.key`, (re-)issued when missing, expiring, or not covering `names`."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubelite.agent.server.certs", str(pki), node_name, *names,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await child.communicate()
    if child.returncode != 0:
        raise CertificateError(f"cannot make the agent's serving certificate: {err.decode(errors='replace')}")
    return pki / "agent.crt", pki / "agent.key"


def server_context(cert: Path, key: Path, ca_pem: bytes) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cadata=ca_pem.decode())
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
