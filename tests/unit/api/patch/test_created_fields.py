"""A create's managedFields built straight as a fieldsV1 tree equal what the general ownership path gives."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubelite.api import defaults
from kubelite.api.patch import apply, fieldpath
from kubelite.api.patch.errors import PatchError
from kubelite.api.patch.fieldpath import FieldSet
from kubelite.api.patch.meta import PatchSchema
from kubelite.api.schema import kind_schema
from tests.support.examples import example_documents, require_examples
from tests.unit.api.patch.fake_schema import DEPLOYMENT

WRITER = apply.ManagerId("kubectl", apply.UPDATE, "v1")
STATUS: FieldSet = frozenset({(fieldpath.field("status"),)})
DEEP: FieldSet = frozenset({(fieldpath.field("spec"), fieldpath.field("template"))})


def general(obj: dict[str, Any], schema: PatchSchema | None, ignored: FieldSet) -> dict[str, Any] | None:
    """The general path's fieldsV1 for the creator (None: it owns nothing)."""
    managers, gained = apply.update({}, obj, {}, WRITER, schema=schema, api_version="v1", ignored=ignored)
    return fieldpath.to_fields_v1(managers[WRITER].fields) if gained else None


def assert_same(obj: dict[str, Any], schema: PatchSchema | None, ignored: FieldSet) -> None:
    before = copy.deepcopy(obj)
    try:
        expected = general(obj, schema, ignored)
    except PatchError:
        with pytest.raises(PatchError):
            apply.created_fields_v1(obj, schema, ignored)
        return
    fast = apply.created_fields_v1(obj, schema, ignored)
    assert (fast or None) == expected
    assert list(_keys(fast)) == list(_keys(expected or {}))  # the encoding's key order too
    assert obj == before


def _keys(tree: dict[str, Any], prefix: str = "") -> Any:
    for name, child in tree.items():
        yield prefix + "/" + name
        yield from _keys(child, prefix + "/" + name)


def test_the_corpus_creates_the_same_managed_fields() -> None:
    require_examples()
    compared = 0
    for example in example_documents():
        schema = kind_schema(example.group, example.version, example.kind)
        if schema is None:
            continue
        obj = copy.deepcopy(example.document)
        defaults.default(obj)
        for ignored in (frozenset(), STATUS, DEEP):
            assert_same(obj, schema, ignored)
        compared += 1
    assert compared > 100


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "b"}},
        {"kind": {"odd": 1}, "metadata": {"name": {"x": 1}, "labels": {}}},
        {"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a", "image": "x"}]}}}},
        {"spec": {"template": {"spec": {"containers": [{"image": "no name"}]}}}},
        {"spec": {"template": {"spec": {"containers": [None]}}}},
        {"spec": {"template": {"metadata": {}, "spec": {"containers": [], "volumes": [{"name": "v"}]}}}},
        {
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "strategy": {"type": "Recreate"}},
            "status": {"x": 1},
        },
        {"spec": {"template": {"spec": {"finalizers": ["b", "a", "b"], "args": ["x", "x"]}}}},
        {"metadata": {"finalizers": ["z", "a"], "ownerReferences": [{"uid": "2"}, {"uid": "1"}]}},
    ],
)
def test_edge_cases_create_the_same_managed_fields(obj: dict[str, Any]) -> None:
    for schema in (DEPLOYMENT, None):
        for ignored in (frozenset(), STATUS, DEEP):
            assert_same(obj, schema, ignored)


@pytest.mark.parametrize(
    "values",
    [
        {"name": "nginx"},
        {"protocol": "TCP", "containerPort": 80},
        {"b": True, "a": None, "c": -1, "é": 'ü\u2028\x00\x1f"\\/'},
        {"big": 2**70, "port": 1},  # beyond 64 bits
        {"n": "\ud800"},  # a lone surrogate
        {"f": 1.0, "g": 1e16, "h": 1e-7, "i": 0.1},
        {"nested": {"b": 1, "a": [2.0, "x"]}},
    ],
)
def test_key_and_value_elements_spell_their_values_as_canonical_json(values: dict[str, Any]) -> None:
    def normalized(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, dict):
            return {k: normalized(v) for k, v in item.items()}
        if isinstance(item, list):
            return [normalized(v) for v in item]
        return item

    def canonical(item: Any) -> str:
        return json.dumps(normalized(item), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert fieldpath.key(values).text == canonical(values)
    for item in values.values():
        assert fieldpath.value(item).text == canonical(item)
