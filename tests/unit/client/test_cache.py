"""The informer cache: keys, pluggable indexes kept right across updates and deletes, read-only snapshots."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from kubelite.client.cache import (
    Cache,
    by_label,
    by_node_name,
    by_owner_uid,
    object_key,
    split_key,
)
from kubelite.client.frozen import thaw


def pod(
    name: str,
    *,
    ns: str = "default",
    node: str = "",
    labels: dict[str, str] | None = None,
    owner: str = "",
    rv: str = "1",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels or {}, "resourceVersion": rv}
    if owner:
        meta["ownerReferences"] = [{"kind": "ReplicaSet", "name": "rs", "uid": owner, "controller": True}]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": {"nodeName": node} if node else {}}


def names(objs: list[Any]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


def test_keys_follow_client_go() -> None:
    assert object_key(pod("web", ns="prod")) == "prod/web"
    assert object_key({"metadata": {"name": "node-1"}}) == "node-1"
    assert split_key("prod/web") == ("prod", "web")
    assert split_key("node-1") == (None, "node-1")


def test_indexes_track_puts_updates_and_removes() -> None:
    cache = Cache({"label": by_label, "owner": by_owner_uid, "node": by_node_name})
    cache.put(pod("a", node="n1", labels={"app": "web"}, owner="u1"))
    cache.put(pod("b", node="n1", labels={"app": "db"}))
    cache.put(pod("c", ns="other", node="n2", labels={"app": "web"}, owner="u1"))
    assert names(cache.by_index("node", "n1")) == ["a", "b"]
    assert names(cache.by_index("label", "app=web")) == ["a", "c"]
    assert names(cache.by_index("owner", "u1")) == ["a", "c"]
    assert names(cache.list(namespace="other")) == ["c"]
    assert cache.index_values("node") == ["n1", "n2"]

    # a moves node and changes label: old index entries go away
    _, old = cache.put(pod("a", node="n2", labels={"app": "db"}, owner="u1", rv="2"))
    assert old is not None and old["spec"]["nodeName"] == "n1"
    assert names(cache.by_index("node", "n1")) == ["b"]
    assert names(cache.by_index("node", "n2")) == ["a", "c"]
    assert names(cache.by_index("label", "app=web")) == ["c"]

    removed = cache.remove("other/c")
    assert removed is not None and names(cache.by_index("owner", "u1")) == ["a"]
    assert cache.index_values("node") == ["n1", "n2"] and cache.by_index("node", "zzz") == []
    assert cache.remove("other/c") is None
    assert len(cache) == 2 and "default/a" in cache and cache.keys() == ["default/a", "default/b"]
    assert cache.get_by_name("b", namespace="default") is cache.get("default/b")


def test_index_added_later_covers_existing_objects() -> None:
    cache = Cache()
    cache.put(pod("a", node="n1"))
    cache.add_indexers({"node": by_node_name})
    assert names(cache.by_index("node", "n1")) == ["a"]
    cache.add_indexers({"node": by_node_name})  # the same definition again is fine
    with pytest.raises(ValueError, match="already defined"):
        cache.add_indexers({"node": by_label})
    with pytest.raises(KeyError):
        cache.by_index("missing", "x")


def test_snapshots_are_read_only_but_encode_and_compare_as_json() -> None:
    cache = Cache()
    original = pod("a", labels={"app": "web"})
    stored, _ = cache.put(original)
    original["metadata"]["labels"]["app"] = "changed-after-put"  # the cache kept its own copy
    assert cache.get("default/a") == pod("a", labels={"app": "web"})
    snapshot = cache.get("default/a")
    assert snapshot is stored
    with pytest.raises(TypeError, match="read-only"):
        snapshot["metadata"]["labels"]["app"] = "x"
    with pytest.raises(TypeError):
        snapshot["metadata"]["ownerReferences"] = []
    containers = cache.put({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})[0]
    with pytest.raises(TypeError):
        containers["spec"]["containers"].append({"name": "d"})
    assert orjson.loads(orjson.dumps(snapshot)) == pod("a", labels={"app": "web"})
    mutable = thaw(snapshot)
    mutable["metadata"]["labels"]["app"] = "db"
    deep = copy.deepcopy(containers)
    deep["spec"]["containers"].append({"name": "d"})
    assert cache.get("default/a")["metadata"]["labels"]["app"] == "web"
    assert len(cache.get("p")["spec"]["containers"]) == 1
