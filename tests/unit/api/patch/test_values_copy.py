"""json_copy, the cheap deep copy the API server's write path uses instead of copy.deepcopy, and the
added-only walk typed.compare takes for fields a write creates."""

from __future__ import annotations

from kubelite.api.patch import typed
from kubelite.api.patch.fieldpath import field, key
from kubelite.api.patch.values import json_copy
from tests.unit.api.patch.fake_schema import POD


def test_json_copy_is_deep_and_keeps_json_types() -> None:
    original = {"a": [1, 1.5, True, None, "s", {"b": [{"c": False}]}]}
    copied = json_copy(original)
    assert copied == original
    copied["a"][5]["b"][0]["c"] = True
    copied["a"].append(2)
    assert original == {"a": [1, 1.5, True, None, "s", {"b": [{"c": False}]}]}
    assert type(copied["a"][2]) is bool and type(copied["a"][0]) is int


def test_json_copy_falls_back_to_deepcopy_for_other_values() -> None:
    inner = [1]
    copied = json_copy({"t": (inner, 2)})
    assert copied == {"t": ([1], 2)}
    assert copied["t"][0] is not inner


def test_compare_from_nothing_adds_every_field_and_item() -> None:
    new = {
        "metadata": {"labels": {}},
        "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}, {"name": "b"}]},
    }
    comparison = typed.compare({}, new, POD)
    containers = (field("spec"), field("containers"))
    a = (*containers, key({"name": "a"}))
    assert comparison.modified == set() and comparison.removed == set()
    assert comparison.added == {
        (field("metadata"),),
        (field("metadata"), field("labels")),
        (field("spec"),),
        containers,
        a,
        (*a, field("name")),
        (*a, field("image")),
        (*containers, key({"name": "b"})),  # duplicated items: owned whole, not walked
    }
