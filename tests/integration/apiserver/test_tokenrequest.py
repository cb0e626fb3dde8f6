"""The TokenRequest API (`serviceaccounts/<name>/token`) and authentication with the tokens it issues, driven
by kubectl, the official Python client and plain HTTPS."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from kubelite.apiserver.serviceaccounttoken import ISSUER, TokenSigner, claims
from tests.integration.apiserver.conftest import RunningServer


def _segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _status(server: RunningServer, token: str, path: str) -> int:
    request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, context=server.ssl_context(), timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _namespace_with_account(server: RunningServer) -> tuple[str, str]:
    """A fresh namespace holding the `default` service account; returns the namespace and the SA's uid."""
    ns = f"tok-{uuid.uuid4().hex[:8]}"
    server.kubectl("create", "namespace", ns)
    server.kubectl("create", "serviceaccount", "default", "-n", ns)
    uid = server.kubectl("get", "sa", "default", "-n", ns, "-o", "jsonpath={.metadata.uid}").stdout
    return ns, uid


def test_kubectl_create_token_issues_the_upstream_claims(apiserver: RunningServer) -> None:
    ns, uid = _namespace_with_account(apiserver)
    token = apiserver.kubectl("create", "token", "default", "-n", ns).stdout.strip()
    header, payload = _segment(token, 0), _segment(token, 1)
    signer = apiserver.handle.context.token_signer
    assert signer is not None and header == {"alg": "ES256", "kid": signer.kid}
    assert payload["iss"] == ISSUER
    assert payload["sub"] == f"system:serviceaccount:{ns}:default"
    assert payload["aud"] == [ISSUER]
    assert payload["exp"] - payload["iat"] == 3600 and payload["nbf"] == payload["iat"]
    assert abs(payload["iat"] - time.time()) < 60
    assert payload["kubernetes.io"] == {"namespace": ns, "serviceaccount": {"name": "default", "uid": uid}}

    token = apiserver.kubectl(
        "create", "token", "default", "-n", ns, "--duration=20m", "--audience=vault", "--audience=other"
    ).stdout.strip()
    payload = _segment(token, 1)
    assert payload["aud"] == ["vault", "other"] and payload["exp"] - payload["iat"] == 1200


def test_token_authenticates_until_its_service_account_goes(apiserver: RunningServer) -> None:
    ns, _ = _namespace_with_account(apiserver)
    token = apiserver.kubectl("create", "token", "default", "-n", ns).stdout.strip()
    pods = f"/api/v1/namespaces/{ns}/pods"
    assert _status(apiserver, token, pods) == 200

    elsewhere = apiserver.kubectl("create", "token", "default", "-n", ns, "--audience=vault").stdout.strip()
    assert _status(apiserver, elsewhere, pods) == 401
    header, payload, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["sub"] = "system:serviceaccount:kube-system:default"
    tampered = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert _status(apiserver, f"{header}.{tampered}.{signature}", pods) == 401

    apiserver.kubectl("delete", "sa", "default", "-n", ns)
    assert _status(apiserver, token, pods) == 401
    apiserver.kubectl("create", "serviceaccount", "default", "-n", ns)  # same name, another uid
    assert _status(apiserver, token, pods) == 401


def test_expired_and_foreign_tokens_are_refused(apiserver: RunningServer) -> None:
    ns, uid = _namespace_with_account(apiserver)
    signer = apiserver.handle.context.token_signer
    assert signer is not None
    pods = f"/api/v1/namespaces/{ns}/pods"

    def token(*, ago: int, key_signer: TokenSigner = signer) -> str:
        now = int(time.time()) - ago
        fields = claims(
            namespace=ns, name="default", uid=uid, audiences=[ISSUER], expiration_seconds=600, now=now
        )
        return key_signer.sign(fields)

    assert _status(apiserver, token(ago=0), pods) == 200
    assert _status(apiserver, token(ago=900), pods) == 401  # expired five minutes ago
    assert (
        _status(
            apiserver, token(ago=0, key_signer=TokenSigner(ec.generate_private_key(ec.SECP256R1()))), pods
        )
        == 401
    )


def test_pod_bound_token_through_the_python_client(apiserver: RunningServer) -> None:
    ns, _ = _namespace_with_account(apiserver)
    core = client.CoreV1Api(apiserver.python_client())
    node = core.create_node({"metadata": {"name": "n1"}})
    spec = {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]}
    pod = core.create_namespaced_pod(ns, {"metadata": {"name": "app"}, "spec": spec})
    ref = client.V1BoundObjectReference(kind="Pod", api_version="v1", name="app", uid=pod.metadata.uid)
    # 3607 s is what the kubelet asks for: upstream makes such pod tokens last a year, warning after 3607 s.
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3607, bound_object_ref=ref)
    )
    answer = core.create_namespaced_service_account_token("default", ns, request)
    assert answer.spec.audiences == [ISSUER] and answer.spec.expiration_seconds == 3607
    assert (answer.metadata.name, answer.metadata.namespace) == ("default", ns)
    token = answer.status.token
    payload = _segment(token, 1)
    assert payload["kubernetes.io"]["pod"] == {"name": "app", "uid": pod.metadata.uid}
    assert payload["kubernetes.io"]["node"] == {"name": "n1", "uid": node.metadata.uid}
    assert payload["kubernetes.io"]["warnafter"] == payload["iat"] + 3607
    assert payload["exp"] - payload["iat"] == 365 * 24 * 3600
    assert answer.status.expiration_timestamp.timestamp() == payload["iat"] + 3607
    pods = f"/api/v1/namespaces/{ns}/pods"
    assert _status(apiserver, token, pods) == 200

    ref.uid = "not-the-pod"
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_service_account_token("default", ns, request)
    assert refused.value.status == 409
    core.delete_namespaced_pod("app", ns, grace_period_seconds=0)
    assert _status(apiserver, token, pods) == 401


def test_node_bound_token(apiserver: RunningServer) -> None:
    ns, _ = _namespace_with_account(apiserver)
    core = client.CoreV1Api(apiserver.python_client())
    core.create_node({"metadata": {"name": "n2"}})
    ref = client.V1BoundObjectReference(kind="Node", api_version="v1", name="n2")
    spec = client.V1TokenRequestSpec(audiences=[], bound_object_ref=ref)
    answer = core.create_namespaced_service_account_token(
        "default", ns, client.AuthenticationV1TokenRequest(spec=spec)
    )
    assert "warnafter" not in _segment(answer.status.token, 1)["kubernetes.io"]
    assert _status(apiserver, answer.status.token, "/api/v1/nodes") == 200
    core.delete_node("n2")
    assert _status(apiserver, answer.status.token, "/api/v1/nodes") == 401


def test_bad_requests(apiserver: RunningServer) -> None:
    ns, _ = _namespace_with_account(apiserver)
    core = client.CoreV1Api(apiserver.python_client())
    spec = client.V1TokenRequestSpec(audiences=[], expiration_seconds=599)
    with pytest.raises(ApiException) as short:
        core.create_namespaced_service_account_token(
            "default", ns, client.AuthenticationV1TokenRequest(spec=spec)
        )
    status = json.loads(short.value.body)
    assert short.value.status == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == "spec.expirationSeconds"
    assert "may not specify a duration less than 10 minutes" in status["message"]

    renamed = client.AuthenticationV1TokenRequest(
        metadata={"name": "other"}, spec=client.V1TokenRequestSpec(audiences=[])
    )
    with pytest.raises(ApiException) as mismatch:
        core.create_namespaced_service_account_token("default", ns, renamed)
    assert mismatch.value.status == 422
    assert json.loads(mismatch.value.body)["details"]["causes"][0]["field"] == "metadata.name"

    missing = apiserver.kubectl("create", "token", "nobody", "-n", ns, check=False)
    assert missing.returncode != 0 and 'serviceaccounts "nobody" not found' in missing.stderr

    spec = client.V1TokenRequestSpec(
        audiences=[],
        bound_object_ref=client.V1BoundObjectReference(kind="Deployment", api_version="apps/v1", name="x"),
    )
    with pytest.raises(ApiException) as wrong_kind:
        core.create_namespaced_service_account_token(
            "default", ns, client.AuthenticationV1TokenRequest(spec=spec)
        )
    assert wrong_kind.value.status == 400
    assert "cannot bind token to object of type apps/v1, Kind=Deployment" in wrong_kind.value.body


def test_discovery_lists_the_token_subresource(apiserver: RunningServer) -> None:
    listing = json.loads(apiserver.kubectl("get", "--raw", "/api/v1").stdout)
    entry = next(r for r in listing["resources"] if r["name"] == "serviceaccounts/token")
    assert entry["kind"] == "TokenRequest" and entry["verbs"] == ["create"]
    assert (entry["group"], entry["version"]) == ("authentication.k8s.io", "v1")
