"""Label selectors (kubelite.api.selectors) and field selectors (kubelite.apiserver.fieldselectors)."""

from __future__ import annotations

import pytest

from kubelite.api import selectors
from kubelite.apiserver import fieldselectors

LABELS = {"app": "web", "tier": "front", "replicas": "3"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("app in (web, db)", True),
        ("app notin (web)", False),
        ("missing notin (web)", True),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("app=web,tier=back", False),
        ("app in (web),tier notin (back),!missing", True),
        ("replicas>2", True),
        ("replicas<3", False),
        ("app=", False),
    ],
)
def test_label_selector_query_syntax(text: str, expected: bool) -> None:
    assert selectors.parse(text).matches(LABELS) is expected


@pytest.mark.parametrize(
    "text", ["app in (", "app in ()", "a b", "bad key!=x", "app=in valid", ",", "app=" + "x" * 64]
)
def test_label_selector_errors(text: str) -> None:
    with pytest.raises(selectors.SelectorError):
        selectors.parse(text)


def test_label_selector_object_and_round_trip() -> None:
    sel = selectors.from_label_selector(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}],
        }
    )
    assert sel.matches(LABELS) and not sel.matches({"app": "web"})
    assert selectors.to_string(sel) == "app=web,tier=front"
    assert selectors.parse(selectors.to_string(sel)) == sel
    assert not selectors.from_label_selector(None).matches(LABELS)  # nil selects nothing
    assert selectors.from_label_selector({}).matches({})  # empty selects everything
    with pytest.raises(selectors.SelectorError):
        selectors.from_label_selector(
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}
        )


POD = {
    "metadata": {"name": "p", "namespace": "ns"},
    "spec": {"nodeName": "n1", "hostNetwork": True},
    "status": {"phase": "Running"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metadata.name=p", True),
        ("metadata.name==p,metadata.namespace=ns", True),
        ("spec.nodeName!=n1", False),
        ("status.phase=Running,spec.nodeName=n1", True),
        ("spec.hostNetwork=true", True),
        ("spec.schedulerName=", True),
    ],
)
def test_field_selectors(text: str, expected: bool) -> None:
    assert fieldselectors.parse(text, group="", resource="pods").matches(POD) is expected


def test_field_selector_rules() -> None:
    with pytest.raises(fieldselectors.FieldSelectorError, match=r"field label not supported: spec\.nodeName"):
        fieldselectors.parse("spec.nodeName=x", group="", resource="configmaps")
    with pytest.raises(fieldselectors.FieldSelectorError):
        fieldselectors.parse("metadata.name", group="", resource="pods")
    escaped = fieldselectors.parse(r"metadata.name=a\,b", group="", resource="pods")
    assert escaped.exact_name() == "a,b"
    event = {
        "metadata": {"name": "e"},
        "involvedObject": {"name": "p", "uid": "u"},
        "source": {"component": "k"},
    }
    sel = fieldselectors.parse(
        "involvedObject.name=p,involvedObject.uid=u,source=k", group="", resource="events"
    )
    assert sel.matches(event)
