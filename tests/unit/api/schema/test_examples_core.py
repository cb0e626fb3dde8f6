"""Upstream's documentation examples of core/v1 kinds pass structural validation; broken ones fail as
upstream makes them fail.

The corpus lives in the shared folder beside the repository (see its SOURCE.md); the non-core groups' examples
are checked by test_groups.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.schema import kind_schema
from kubelite.api.schema.validate import validate
from tests.support.examples import EXAMPLES, example_documents

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
    return [
        (d.where, d.document)
        for d in example_documents()
        if (d.group, d.version) == ("", "v1") and kind_schema("", "v1", d.kind) is not None
    ]


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
