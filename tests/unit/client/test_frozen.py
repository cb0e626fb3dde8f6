"""freeze/thaw: the exact-type fast paths give the same read-only copies as the general ones."""

from __future__ import annotations

from collections import OrderedDict

import pytest

from kubelite.client.frozen import FrozenDict, FrozenList, freeze, thaw


def test_freeze_makes_every_level_read_only_and_thaw_gives_a_mutable_copy() -> None:
    obj = {"spec": {"containers": [{"name": "a", "ports": [80]}], "replicas": 1, "paused": False}, "x": None}
    frozen = freeze(obj)
    assert frozen == obj
    assert isinstance(frozen["spec"], FrozenDict) and isinstance(frozen["spec"]["containers"], FrozenList)
    with pytest.raises(TypeError):
        frozen["spec"]["containers"][0]["ports"].append(81)
    with pytest.raises(TypeError):
        frozen["spec"]["replicas"] = 2
    assert freeze(frozen) is frozen
    thawed = thaw(frozen)
    thawed["spec"]["containers"][0]["ports"].append(81)
    assert type(thawed["spec"]) is dict and type(thawed["spec"]["containers"]) is list
    assert frozen["spec"]["containers"][0]["ports"] == [80]


def test_other_mappings_and_tuples_freeze_and_thaw_like_dicts_and_lists() -> None:
    frozen = freeze(OrderedDict(a=(1, {2: "two"})))
    assert isinstance(frozen, FrozenDict) and isinstance(frozen["a"], FrozenList)
    assert frozen == {"a": [1, {"2": "two"}]}
    assert thaw(OrderedDict(a=(1,))) == {"a": [1]}
