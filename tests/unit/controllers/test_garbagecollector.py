"""The garbage collector against an in-memory client: background, foreground and orphan propagation."""

from __future__ import annotations

from typing import Any

from kubelite.client import paths
from kubelite.controllers.garbagecollector import GarbageCollector, graph_key
from tests.support.fakeclient import FakeClusterClient, forget_all, make_context, seed

REPLICASETS = paths.resource("apps", "v1", "replicasets")
PODS = paths.resource("", "v1", "pods")


def replicaset(name: str, *, finalizer: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "uid": f"uid-{name}"}
    if finalizer:
        meta.update(finalizers=[finalizer], deletionTimestamp="2026-01-01T00:00:00Z")
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta}


def pod(name: str, owner: str, *, block: bool = False) -> dict[str, Any]:
    ref = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": owner,
        "uid": f"uid-{owner}",
        "controller": True,
        "blockOwnerDeletion": block,
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "ownerReferences": [ref]},
    }


def setup(*objects: tuple[Any, dict[str, Any]]) -> tuple[FakeClusterClient, GarbageCollector]:
    fake = FakeClusterClient()
    gc = GarbageCollector(make_context(fake))
    for res, obj in objects:
        stored = fake.add(res, obj)
        seed(gc.informers[(res.group, res.plural)], stored)
    return fake, gc


async def test_a_dependent_of_a_vanished_owner_is_deleted_in_the_background() -> None:
    fake, gc = setup((PODS, pod("web-1", "web")))
    await gc.reconcile(graph_key(PODS, pod("web-1", "web")))
    assert fake.stored(PODS, "web-1", "ns") is None
    [delete] = fake.writes("delete", "pods")
    assert delete.body["propagation_policy"] == "Background"


async def test_a_dependent_whose_owner_exists_live_is_kept_even_if_the_cache_lags() -> None:
    fake, gc = setup((PODS, pod("web-1", "web")))
    fake.add(REPLICASETS, replicaset("web"))  # on the server, not yet in the informer's cache
    await gc.reconcile(graph_key(PODS, pod("web-1", "web")))
    assert fake.stored(PODS, "web-1", "ns") is not None
    assert fake.writes("delete") == []


async def test_a_namesake_owner_with_another_uid_does_not_save_the_dependent() -> None:
    fake, gc = setup((PODS, pod("web-1", "web")))
    fake.add(
        REPLICASETS, {**replicaset("web"), "metadata": {"name": "web", "namespace": "ns", "uid": "other"}}
    )
    await gc.reconcile(graph_key(PODS, pod("web-1", "web")))
    assert fake.stored(PODS, "web-1", "ns") is None


async def test_orphan_strips_the_owner_reference_then_the_finalizer() -> None:
    fake, gc = setup((REPLICASETS, replicaset("web", finalizer="orphan")), (PODS, pod("web-1", "web")))
    await gc.reconcile(graph_key(REPLICASETS, replicaset("web")))
    kept = fake.stored(PODS, "web-1", "ns")
    assert kept is not None and kept["metadata"]["ownerReferences"] == []
    assert fake.stored(REPLICASETS, "web", "ns") is None  # its last finalizer went, so it went


async def test_foreground_deletes_dependents_and_waits_for_blocking_ones() -> None:
    fake, gc = setup(
        (REPLICASETS, replicaset("web", finalizer="foregroundDeletion")),
        (PODS, pod("web-1", "web", block=True)),
    )
    owner_key = graph_key(REPLICASETS, replicaset("web"))
    await gc.reconcile(owner_key)
    assert fake.stored(PODS, "web-1", "ns") is None
    [delete] = fake.writes("delete", "pods")
    assert delete.body["propagation_policy"] == "Foreground"
    assert fake.stored(REPLICASETS, "web", "ns") is not None  # the cache still shows a blocking dependent

    forget_all(gc.informers[("", "pods")])
    await gc.reconcile(owner_key)
    assert fake.stored(REPLICASETS, "web", "ns") is None


async def test_foreground_owner_does_not_wait_for_non_blocking_dependents() -> None:
    fake, gc = setup(
        (REPLICASETS, replicaset("web", finalizer="foregroundDeletion")), (PODS, pod("web-1", "web"))
    )
    await gc.reconcile(graph_key(REPLICASETS, replicaset("web")))
    assert fake.stored(REPLICASETS, "web", "ns") is None
    assert fake.stored(PODS, "web-1", "ns") is None
