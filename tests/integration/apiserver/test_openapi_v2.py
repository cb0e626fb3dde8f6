"""/openapi/v2 through the real kubectl: for a group version missing from /openapi/v3, kubectl reads v2 in
gnostic's protobuf encoding and validates the kind's fields against it on its own."""

from __future__ import annotations

import urllib.request

import orjson
import pytest

from kubelite.api.schema import openapi
from tests.integration.apiserver.conftest import RunningServer

HIDDEN = "apis/apps/v1"
PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""


@pytest.fixture
def v3_without_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The v3 documents as if apps/v1 were a group version they do not describe (yet)."""
    index = orjson.loads(openapi.v3_index().body)
    del index["paths"][HIDDEN]
    hidden_index = openapi.Document(orjson.dumps(index), "without-apps")
    real_document = openapi.v3_document
    monkeypatch.setattr(openapi, "v3_index", lambda: hidden_index)
    monkeypatch.setattr(openapi, "v3_document", lambda path: None if path == HIDDEN else real_document(path))


def _apply(apiserver: RunningServer, manifest: str) -> tuple[int, str, str]:
    result = apiserver.kubectl("apply", "--dry-run=server", "-f", "-", input=manifest, check=False)
    return result.returncode, result.stdout, result.stderr


def test_kubectl_validates_against_v2_for_kinds_missing_from_v3(
    apiserver: RunningServer, v3_without_apps: None
) -> None:
    assert _apply(apiserver, DEPLOYMENT) == (0, "deployment.apps/web created (server dry run)\n", "")

    code, _, stderr = _apply(apiserver, DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  bogus: 1"))
    assert code == 1
    assert (
        'ValidationError(Deployment.spec): unknown field "bogus" in io.k8s.api.apps.v1.DeploymentSpec'
        in stderr
    )

    code, _, stderr = _apply(apiserver, DEPLOYMENT.replace("replicas: 2", "replicas: two"))
    assert code == 1
    field = "io.k8s.api.apps.v1.DeploymentSpec.replicas"
    assert f'ValidationError(Deployment.spec.replicas): invalid type for {field}: got "string"' in stderr


def test_explain_reads_the_v2_document(apiserver: RunningServer) -> None:
    result = apiserver.kubectl("explain", "deployment.spec.replicas", "--output=plaintext-openapiv2")
    assert "KIND:     Deployment\nVERSION:  apps/v1\n\nFIELD:    replicas <integer>\n" in result.stdout


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [(PROTOBUF, "application/octet-stream"), ("application/json", "application/json")],
)
def test_v2_answers_the_asked_encoding(apiserver: RunningServer, accept: str, content_type: str) -> None:
    request = urllib.request.Request(
        apiserver.url + "/openapi/v2",
        headers={"Accept": accept, "Authorization": f"Bearer {apiserver.token}"},
    )
    with urllib.request.urlopen(request, context=apiserver.ssl_context(), timeout=30) as response:
        body = response.read()
        assert response.headers["Content-Type"] == content_type
        assert response.headers["Vary"] == "Accept"
    if content_type == "application/json":
        assert orjson.loads(body)["swagger"] == "2.0"
    else:
        assert body.startswith(b"\x0a\x032.0")  # field 1 (swagger), 3 bytes: "2.0"
