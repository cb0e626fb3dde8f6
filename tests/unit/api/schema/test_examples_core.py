"""Upstream's documentation examples of core/v1 kinds pass structural validation; broken ones fail as
upstream makes them fail.

The corpus lives in the shared folder beside the repository (see its SOURCE.md); the non-core groups' examples
are checked by test_groups.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubelite.api.schema import kind_schema
from kubelite.api.schema.validate import validate
from tests.support.examples import EXAMPLES

# Examples that upstream refuses too, with the problem it reports.
BROKEN = {
    # SOURCE.md: uses the removed ipFamily field.
    "service/networking/dual-stack-ipv6-svc.yaml#0": ['unknown field "spec.ipFamily"'],
    # This stored version lists preference terms where a NodeSelector object belongs.
    "pods/pod-with-node-affinity.yaml#0": [
        'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: Invalid value: "array": '
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution in body must be of type "
        'object: "array"'
    ],
}


def _core_documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue  # SOURCE.md: three files are deliberately not YAML
        for index, document in enumerate(documents):
            if isinstance(document, dict) and document.get("apiVersion") == "v1":
                if kind_schema("", "v1", str(document.get("kind"))) is not None:
                    found.append((f"{path.relative_to(EXAMPLES)}#{index}", document))
    return found


DOCUMENTS = _core_documents() if EXAMPLES.is_dir() else []
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} is not here")


def test_the_corpus_is_substantial() -> None:
    kinds = {document["kind"] for _, document in DOCUMENTS}
    assert {"Pod", "Service", "ConfigMap", "Secret", "PersistentVolume", "PersistentVolumeClaim"} <= kinds
    assert len(DOCUMENTS) >= 150
    assert set(BROKEN) <= {where for where, _ in DOCUMENTS}


@pytest.mark.parametrize(("where", "document"), DOCUMENTS, ids=[where for where, _ in DOCUMENTS])
def test_example(where: str, document: dict[str, Any]) -> None:
    causes = validate(document, "", "v1", document["kind"])
    assert [str(cause) for cause in causes] == BROKEN.get(where, [])
