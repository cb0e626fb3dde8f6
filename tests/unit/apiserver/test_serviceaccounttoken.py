"""Service-account JWTs: the signing key on disk, signing and verifying, and the authenticator's checks of
the objects a token names."""

from __future__ import annotations

import base64
import datetime
import json
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import make_mocked_request
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kubelite.apiserver import errors
from kubelite.apiserver.serviceaccounttoken import (
    ISSUER,
    BoundObject,
    InvalidToken,
    TokenIdentity,
    TokenSigner,
    claims,
    ensure_signing_key,
)
from kubelite.apiserver.tokenauth import ServiceAccountTokenAuthenticator


@pytest.fixture(scope="module")
def signer() -> TokenSigner:
    return TokenSigner(ec.generate_private_key(ec.SECP256R1()))


def _claims(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        namespace="ns", name="sa", uid="sa-uid", audiences=[ISSUER], expiration_seconds=600
    )
    return claims(**(fields | overrides))


def test_signing_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "tls" / "service-account.key"
    first = TokenSigner(ensure_signing_key(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = TokenSigner(ensure_signing_key(path))
    assert again.kid == first.kid
    assert again.verify(first.sign(_claims())).name == "sa"  # a restart still accepts earlier tokens


def test_a_key_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "service-account.key"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ValueError, match="P-256"):
        ensure_signing_key(path)


def test_claims_and_round_trip(signer: TokenSigner) -> None:
    pod = BoundObject("Pod", "web-0", "pod-uid")
    fields = _claims(now=1_000_000, bound=pod, audiences=["a", "b"])
    assert fields["sub"] == "system:serviceaccount:ns:sa" and fields["iss"] == ISSUER
    assert (fields["iat"], fields["nbf"], fields["exp"]) == (1_000_000, 1_000_000, 1_000_600)
    assert fields["kubernetes.io"] == {
        "namespace": "ns",
        "serviceaccount": {"name": "sa", "uid": "sa-uid"},
        "pod": {"name": "web-0", "uid": "pod-uid"},
    }
    token = signer.sign(_claims(bound=pod, audiences=["a", "b"]))
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": signer.kid}
    assert signer.verify(token, audiences=("b",)) == TokenIdentity("ns", "sa", "sa-uid", pod)
    assert signer.verify(signer.sign(_claims())).username == "system:serviceaccount:ns:sa"


def test_pod_tokens_name_their_node_and_may_warn(signer: TokenSigner) -> None:
    pod, node = BoundObject("Pod", "web-0", "pod-uid"), BoundObject("Node", "n1", "")
    fields = _claims(now=1_000_000, bound=pod, node=node, warn_after=3607)
    assert fields["kubernetes.io"]["node"] == {"name": "n1"}  # the Node object was missing: no uid
    assert fields["kubernetes.io"]["warnafter"] == 1_003_607
    assert signer.verify(signer.sign(_claims(bound=pod, node=node))).bound == pod  # the pod is what binds
    node_bound = signer.verify(signer.sign(_claims(bound=BoundObject("Node", "n1", "node-uid"))))
    assert node_bound.bound == BoundObject("Node", "n1", "node-uid")


def _reencode(token: str, change: dict[str, Any]) -> str:
    header, payload, signature = token.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) | change
    return ".".join(
        [header, base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode(), signature]
    )


def test_tokens_that_do_not_verify(signer: TokenSigner) -> None:
    now = int(time.time())
    other = TokenSigner(ec.generate_private_key(ec.SECP256R1()))
    good = signer.sign(_claims())
    refused = {
        "wrong audience": signer.sign(_claims(audiences=["vault"])),
        "expired": signer.sign(_claims(now=now - 700)),
        "not yet valid": signer.sign(_claims(now=now + 300)),
        "another key": other.sign(_claims()),
        "another issuer": signer.sign(_claims(issuer="https://elsewhere")),
        "tampered": _reencode(good, {"sub": "system:serviceaccount:kube-system:default"}),
        "unsigned": jwt.encode(_claims(), key=None, algorithm="none"),
        "symmetric": jwt.encode(_claims(), key="k" * 32, algorithm="HS256"),
        "sub differs": signer.sign(_claims() | {"sub": "system:serviceaccount:ns:other"}),
        "no k8s claim": signer.sign({k: v for k, v in _claims().items() if k != "kubernetes.io"}),
        "no exp": signer.sign({k: v for k, v in _claims().items() if k != "exp"}),
        "garbage": "a.b.c",
    }
    assert [why for why, token in refused.items() if _verifies(signer, token)] == []
    # Within the allowed clock skew, a just-expired token still passes, as upstream's.
    assert signer.verify(signer.sign(_claims(now=now - 630))).name == "sa"


def _verifies(signer: TokenSigner, token: str) -> bool:
    try:
        signer.verify(token)
    except InvalidToken:
        return False
    return True


class _Objects:
    """Stands in for the server context: service accounts and one registry of pods."""

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}

    async def lookup_service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.accounts.get((namespace, name))

    def registry(self, group: str, version: str, plural: str) -> Any:
        return self if plural == "pods" else None

    async def get(self, namespace: str, name: str) -> tuple[dict[str, Any], int]:
        if (namespace, name) not in self.pods:
            raise errors.not_found(errors.Resource("", "pods"), name)
        return self.pods[(namespace, name)], 1


def _request(token: str) -> Any:
    return make_mocked_request("GET", "/api/v1/pods", headers={"Authorization": f"Bearer {token}"})


async def test_authenticator_checks_the_named_objects(signer: TokenSigner) -> None:
    objects = _Objects()
    auth = ServiceAccountTokenAuthenticator(signer, objects)  # type: ignore[arg-type]
    bound = signer.sign(_claims(bound=BoundObject("Pod", "web-0", "pod-uid")))
    assert await auth.authenticate(_request(bound)) is None  # no such service account

    objects.accounts[("ns", "sa")] = {"metadata": {"name": "sa", "uid": "sa-uid"}}
    assert await auth.authenticate(_request(bound)) is None  # no such pod
    objects.pods[("ns", "web-0")] = {"metadata": {"name": "web-0", "uid": "pod-uid"}}
    user = await auth.authenticate(_request(bound))
    assert user is not None and user.name == "system:serviceaccount:ns:sa" and user.uid == "sa-uid"
    assert user.groups == ("system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated")

    objects.pods[("ns", "web-0")]["metadata"]["deletionTimestamp"] = _ago(seconds=30)
    assert await auth.authenticate(_request(bound)) is not None  # deleting, within the grace minute
    objects.pods[("ns", "web-0")]["metadata"]["deletionTimestamp"] = _ago(seconds=90)
    assert await auth.authenticate(_request(bound)) is None
    objects.accounts[("ns", "sa")]["metadata"]["uid"] = "recreated"
    assert await auth.authenticate(_request(signer.sign(_claims()))) is None
    for header in ("Basic abc", "Bearer static-admin-token"):  # not ours to judge
        assert (
            await auth.authenticate(make_mocked_request("GET", "/", headers={"Authorization": header}))
            is None
        )


def _ago(*, seconds: int) -> str:
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
