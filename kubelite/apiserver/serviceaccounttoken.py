"""Service-account tokens: the signing key and the JWTs the TokenRequest API issues and authentication checks.

Tokens are ES256 JWTs shaped like upstream's bound tokens: `iss` is the cluster's issuer URL, `sub`
`system:serviceaccount:<ns>:<name>`, `aud` the audiences asked for, and the private `kubernetes.io` claim
names the service account (and the pod or secret the token is bound to) with their uids, so a token dies
with the objects it names. A pod-bound token also names the pod's node, for information only. The key is
made on the first start and kept next to the TLS files; its id (`kid`) is, as upstream, the unpadded
base64url SHA-256 of the DER public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "https://kubernetes.default.svc.cluster.local"
ALGORITHM = "ES256"
CLAIM = "kubernetes.io"
SUBJECT_PREFIX = "system:serviceaccount:"
LEEWAY = 60  # seconds of clock skew tolerated on exp/nbf, as upstream's validator does
_BINDABLE = ("Pod", "Secret", "Node")  # the object a token is bound to, by precedence: pod tokens name a node


class InvalidToken(Exception):
    """The token is not one of ours, or no longer valid; the message says why (for logs only)."""


@dataclass(frozen=True, slots=True)
class BoundObject:
    kind: str  # "Pod", "Secret" or "Node"
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    """Who a verified token speaks for."""

    namespace: str
    name: str
    uid: str
    bound: BoundObject | None

    @property
    def username(self) -> str:
        return f"{SUBJECT_PREFIX}{self.namespace}:{self.name}"


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def ensure_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The P-256 key in `path` (PEM), made on first use; raises ValueError if the file holds another key."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError(f"{path} does not hold an ECDSA P-256 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(path, pem)
    return key


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def claims(
    *,
    namespace: str,
    name: str,
    uid: str,
    audiences: list[str],
    expiration_seconds: int,
    bound: BoundObject | None = None,
    node: BoundObject | None = None,
    warn_after: int = 0,
    now: int | None = None,
    issuer: str = ISSUER,
) -> dict[str, Any]:
    """The claims of a token for service account `namespace/name` valid from `now` for the given time.
    `node`: the node of the pod the token is bound to (its uid may be unknown); `warn_after`: seconds after
    which a token whose validity was extended counts as stale (upstream's `warnafter`)."""
    issued = int(time.time()) if now is None else now
    private: dict[str, Any] = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
    for ref in (bound, node):
        if ref is not None:
            private[ref.kind.lower()] = {"name": ref.name, "uid": ref.uid} if ref.uid else {"name": ref.name}
    if warn_after:
        private["warnafter"] = issued + warn_after
    return {
        "aud": list(audiences),
        "exp": issued + expiration_seconds,
        "iat": issued,
        "iss": issuer,
        "jti": str(uuid.uuid4()),
        CLAIM: private,
        "nbf": issued,
        "sub": f"{SUBJECT_PREFIX}{namespace}:{name}",
    }


class TokenSigner:
    """Signs and verifies this server's service-account tokens."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, *, issuer: str = ISSUER) -> None:
        self._key = key
        self.issuer = issuer
        self.audiences = (issuer,)  # what the API server accepts tokens for
        self.kid = key_id(key.public_key())

    def sign(self, payload: dict[str, Any]) -> str:
        # Upstream's header names only alg and kid; PyJWT drops its default "typ" when given None.
        return jwt.encode(payload, self._key, algorithm=ALGORITHM, headers={"kid": self.kid, "typ": None})

    def verify(self, token: str, *, audiences: tuple[str, ...] | None = None) -> TokenIdentity:
        """The identity a well-signed, current token of ours names, for one of `audiences` (default: the
        API server's). Says nothing about whether the named objects still exist: the caller checks that."""
        try:
            payload = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=[ALGORITHM],
                audience=list(audiences or self.audiences),
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": ["aud", "exp", "iat", "iss", "nbf", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return _identity(payload)


def _named(value: Any, what: str) -> tuple[str, str]:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"]:
        raise InvalidToken(f"{what} reference is malformed")
    uid = value.get("uid", "")
    if not isinstance(uid, str):
        raise InvalidToken(f"{what} uid is malformed")
    return value["name"], uid


def _identity(payload: dict[str, Any]) -> TokenIdentity:
    private = payload.get(CLAIM)
    if not isinstance(private, dict) or not isinstance(private.get("namespace"), str):
        raise InvalidToken(f"the {CLAIM} claim is missing or malformed")
    namespace = private["namespace"]
    name, uid = _named(private.get("serviceaccount"), "service account")
    if payload["sub"] != f"{SUBJECT_PREFIX}{namespace}:{name}":
        raise InvalidToken("sub does not match the service account claim")
    kind = next((k for k in _BINDABLE if k.lower() in private), None)
    bound = None if kind is None else BoundObject(kind, *_named(private[kind.lower()], kind.lower()))
    return TokenIdentity(namespace, name, uid, bound)
