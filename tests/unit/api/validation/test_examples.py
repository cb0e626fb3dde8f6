"""Upstream's documentation examples run through the API server's write path: structural validation,
defaulting, semantic validation. Good manifests pass and stay structurally valid after defaulting; the
broken ones fail the way a 1.32 API server fails them (see the corpus's SOURCE.md).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api import defaults, resources, validation
from kubelite.api.schema import kind_schema
from kubelite.api.schema.validate import validate as structural
from tests.support.examples import EXAMPLES, example_documents

UID = "0f2a3c4e-1111-2222-3333-444455556666"

# Examples a 1.32 API server refuses, with what it says.
BROKEN = {
    # SOURCE.md: the removed ipFamily field.
    "service/networking/dual-stack-ipv6-svc.yaml#0": ['unknown field "spec.ipFamily"'],
    # This stored version lists preference terms where a NodeSelector object belongs.
    "pods/pod-with-node-affinity.yaml#0": [
        'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: Invalid value: "array": '
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution in body must be of type "
        'object: "array"'
    ],
    # The file says so itself: ephemeral containers are added to running pods, never created with them.
    "pods/security/seccomp/fields.yaml#0": ["spec.ephemeralContainers: Forbidden: cannot be set on create"],
    # A template for sed: "$ITEM" is neither a valid name nor a label value until it is substituted.
    "application/job/job-tmpl.yaml#0": [
        'metadata.name: Invalid value: "process-item-$ITEM": a lowercase RFC 1123 subdomain must consist of '
        "lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
        "character "
        "(e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]"
        "([-a-z0-9]*[a-z0-9])?)*')",
        'spec.template.labels: Invalid value: "process-item-$ITEM": a valid label must be an empty string or '
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
    # A fragment for the docs: no restartPolicy, so the pods would default to Always.
    "controllers/job-success-policy-example.yaml#0": [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ],
    # The Gt/Lt toleration operators are newer than 1.32.
    "pods/pod-with-numeric-toleration.yaml#0": [
        'spec.tolerations[0].operator: Unsupported value: "Gt": supported values: "Equal", "Exists"'
    ],
}


def _served_documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (d.where, d.document)
        for d in example_documents()
        if kind_schema(d.group, d.version, d.kind) and resources.for_kind(d.group, d.version, d.kind)
    ]


DOCUMENTS = _served_documents() if EXAMPLES.is_dir() else []
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} is not here")


def _as_the_server_receives(document: dict[str, Any]) -> tuple[dict[str, Any], str, str, str]:
    """What the API server adds before validating: the namespace from the URL, a uid, a generated name,
    and what the ServiceAccount admission plugin (which runs before validation upstream) fills in."""
    obj = copy.deepcopy(document)
    group, _, version = obj["apiVersion"].rpartition("/")
    kind = obj["kind"]
    meta = obj.setdefault("metadata", None) or {}
    obj["metadata"] = meta
    meta.setdefault("name", (meta.get("generateName") or "example-") + "x7k2p")
    resource = resources.for_kind(group, version, kind)
    assert resource is not None
    if resource.namespaced:
        meta["namespace"] = "default"
    meta["uid"] = UID
    if kind == "Pod":
        obj["spec"].setdefault("serviceAccountName", "default")
    return obj, group, version, kind


def test_the_corpus_covers_the_common_kinds() -> None:
    kinds = {document["kind"] for _, document in DOCUMENTS}
    assert {"Pod", "Deployment", "Service", "Job", "StatefulSet", "DaemonSet", "ConfigMap"} <= kinds
    assert len(DOCUMENTS) >= 200
    assert set(BROKEN) <= {where for where, _ in DOCUMENTS}


@pytest.mark.parametrize(("where", "document"), DOCUMENTS, ids=[where for where, _ in DOCUMENTS])
def test_example(where: str, document: dict[str, Any]) -> None:
    obj, group, version, kind = _as_the_server_receives(document)
    found = structural(obj, group, version, kind)
    if not found:
        defaults.default(obj)
        if kind == "Job":
            defaults.generate_job_selector(obj)
        assert structural(obj, group, version, kind) == [], (
            "defaulting produced a structurally invalid object"
        )
        found = validation.validate_create(obj)
    assert [str(cause) for cause in found] == BROKEN.get(where, [])
