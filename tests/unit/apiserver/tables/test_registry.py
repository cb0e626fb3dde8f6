"""Every served kind prints its own columns, every printer copes with bare objects, selectors format as
upstream does, and the Table body has the shape kubectl reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.api.resources import RESOURCES
from kubelite.apiserver import tables
from kubelite.apiserver.tables.base import GENERIC
from kubelite.apiserver.tables.formats import format_label_selector, label_selector_string
from tests.unit.apiserver.tables.printing import NOW, meta

LISTABLE = [(r.group, r.plural) for r in RESOURCES if "list" in r.verbs]


@pytest.mark.parametrize(("group", "resource"), LISTABLE)
def test_every_listable_resource_has_upstream_columns(group: str, resource: str) -> None:
    assert tables.printer_for(group, resource) is not GENERIC


@pytest.mark.parametrize(("group", "resource"), LISTABLE)
@pytest.mark.parametrize("obj", [{}, {"metadata": {"name": "x"}, "spec": {}, "status": {}}])
def test_a_bare_object_fills_every_column(group: str, resource: str, obj: dict[str, Any]) -> None:
    printer = tables.printer_for(group, resource)
    row = printer.cells(obj, NOW)
    assert len(row) == len(printer.columns)
    assert all(isinstance(cell, str | int | bool) for cell in row)


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        (None, ""),
        ({}, ""),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}, "env in (prod)"),
        (
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["b", "a"]}]},
            "env notin (a,b)",
        ),
        (
            {
                "matchLabels": {"zone": "a"},
                "matchExpressions": [
                    {"key": "gpu", "operator": "Exists"},
                    {"key": "arm", "operator": "DoesNotExist"},
                ],
            },
            "!arm,gpu,zone=a",
        ),
    ],
)
def test_label_selector_strings(selector: dict[str, Any] | None, text: str) -> None:
    assert label_selector_string(selector) == text
    assert format_label_selector(selector) == (text or "<none>")


def test_unknown_selector_operator() -> None:
    bad = {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}
    with pytest.raises(ValueError, match="not a valid label selector operator"):
        label_selector_string(bad)
    assert format_label_selector(bad) == "<error>"


@pytest.mark.parametrize(
    ("include", "embedded"),
    [
        (
            "Metadata",
            {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta("web")},
        ),
        ("Object", None),
        ("None", "absent"),
    ],
)
def test_table_body(include: str, embedded: Any) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("web"),
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
        "status": {"readyReplicas": 1},
    }
    body = tables.table(
        tables.printer_for("apps", "deployments"),
        [deployment],
        include=include,
        list_meta={"resourceVersion": "7"},
    )
    assert body["kind"] == "Table" and body["apiVersion"] == "meta.k8s.io/v1"
    assert body["metadata"] == {"resourceVersion": "7"}
    assert [c["name"] for c in body["columnDefinitions"]][:3] == ["Name", "Ready", "Up-to-date"]
    assert body["columnDefinitions"][5] == {
        "name": "Containers",
        "type": "string",
        "format": "",
        "description": "Names of each container in the template.",
        "priority": 1,
    }
    row = body["rows"][0]
    assert row["cells"][:3] == ["web", "1/2", 0]
    if embedded == "absent":
        assert "object" not in row
    else:
        assert row["object"] == (embedded or deployment)
    json.dumps(body)  # cells stay plain JSON values
