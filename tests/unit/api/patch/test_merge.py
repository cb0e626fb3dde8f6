"""JSON merge patch: the RFC 7386 appendix table plus the merge patches kubectl sends."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api.patch.merge import json_merge_patch

RFC_7386_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC_7386_EXAMPLES)
def test_rfc_7386_examples(target: Any, patch: Any, expected: Any) -> None:
    before = copy.deepcopy(target)
    assert json_merge_patch(target, patch) == expected
    assert target == before


def test_kubectl_label_and_scale_patches() -> None:
    deployment = {"metadata": {"name": "web", "labels": {"app": "web", "old": "x"}}, "spec": {"replicas": 1}}
    labelled = json_merge_patch(deployment, {"metadata": {"labels": {"tier": "fe", "old": None}}})
    scaled = json_merge_patch(labelled, {"spec": {"replicas": 4}})
    assert scaled == {
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "fe"}},
        "spec": {"replicas": 4},
    }


def test_result_shares_nothing_with_the_inputs() -> None:
    target: dict[str, Any] = {"spec": {"template": {"labels": {"a": "1"}}}}
    patch: dict[str, Any] = {"spec": {"list": [{"x": 1}]}}
    result = json_merge_patch(target, patch)
    result["spec"]["template"]["labels"]["a"] = "changed"
    result["spec"]["list"][0]["x"] = 2
    assert target == {"spec": {"template": {"labels": {"a": "1"}}}}
    assert patch == {"spec": {"list": [{"x": 1}]}}
