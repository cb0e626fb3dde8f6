"""`fileKeyRef` env sources arrived in Kubernetes 1.34 (alpha); a 1.32 API server does not know the field,
so a manifest using it is refused as an unknown field, as upstream 1.32 refuses it."""

from __future__ import annotations

from tests.integration.apiserver.conftest import RunningServer
from tests.support.examples import require_examples


def test_file_key_ref_is_an_unknown_field(apiserver: RunningServer) -> None:
    manifest = require_examples() / "pods" / "inject" / "envars-file-container.yaml"
    proc = apiserver.kubectl("apply", "--dry-run=server", "-f", str(manifest), check=False)
    assert proc.returncode != 0
    assert 'unknown field "spec.containers[0].env[0].valueFrom.fileKeyRef"' in proc.stderr, proc.stderr
