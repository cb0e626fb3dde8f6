"""The namespace controller against an in-memory client: empty, report, release."""

from __future__ import annotations

from typing import Any

from kubelite.client import paths
from kubelite.client.controller import RequeueAfter
from kubelite.controllers.namespace import NAMESPACES, NamespaceController, with_conditions
from tests.support.fakeclient import FakeClusterClient, make_context, seed

CONFIGMAPS = paths.resource("", "v1", "configmaps")


def terminating(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "deletionTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Terminating"},
    }


def conditions(namespace: dict[str, Any] | None) -> dict[str, tuple[str, str]]:
    assert namespace is not None
    return {c["type"]: (c["status"], c["reason"]) for c in namespace["status"]["conditions"]}


async def test_empties_the_namespace_then_removes_the_finalizer() -> None:
    fake = FakeClusterClient()
    controller = NamespaceController(make_context(fake))
    seed(controller.namespaces, fake.add(NAMESPACES, terminating("doomed")))
    fake.add(CONFIGMAPS, {"metadata": {"name": "settings", "namespace": "doomed"}})
    await controller.reconcile("doomed")
    assert fake.items(CONFIGMAPS, "doomed") == []
    assert fake.stored(NAMESPACES, "doomed") is None  # finalized: nothing held it any more
    finalize = [a for a in fake.writes("update", "namespaces") if a.subresource == "finalize"]
    assert len(finalize) == 1


async def test_content_held_by_a_finalizer_is_reported_and_waited_for() -> None:
    fake = FakeClusterClient()
    controller = NamespaceController(make_context(fake))
    seed(controller.namespaces, fake.add(NAMESPACES, terminating("doomed")))
    fake.add(
        CONFIGMAPS, {"metadata": {"name": "held", "namespace": "doomed", "finalizers": ["example.com/x"]}}
    )
    try:
        await controller.reconcile("doomed")
    except RequeueAfter:
        pass
    else:
        raise AssertionError("the controller should come back while content remains")
    namespace = fake.stored(NAMESPACES, "doomed")
    assert conditions(namespace)["NamespaceContentRemaining"] == ("True", "SomeResourcesRemain")
    assert conditions(namespace)["NamespaceFinalizersRemaining"] == ("True", "SomeFinalizersRemain")
    assert conditions(namespace)["NamespaceDeletionContentFailure"] == ("False", "ContentDeleted")
    assert namespace is not None and namespace["spec"]["finalizers"] == ["kubernetes"]
    message = next(
        c["message"] for c in namespace["status"]["conditions"] if c["type"] == "NamespaceFinalizersRemaining"
    )
    assert (
        message
        == "Some content in the namespace has finalizers remaining: example.com/x in 1 resource instances"
    )


async def test_a_live_namespace_is_left_alone() -> None:
    fake = FakeClusterClient()
    controller = NamespaceController(make_context(fake))
    seed(
        controller.namespaces,
        fake.add(NAMESPACES, {"metadata": {"name": "alive"}, "spec": {"finalizers": ["kubernetes"]}}),
    )
    fake.add(CONFIGMAPS, {"metadata": {"name": "settings", "namespace": "alive"}})
    await controller.reconcile("alive")
    assert fake.actions == []


def test_unchanged_conditions_are_not_rewritten() -> None:
    once = with_conditions({"metadata": {"name": "x"}}, {})
    assert once is not None
    assert with_conditions(once, {}) is None
    assert with_conditions(once, {"NamespaceContentRemaining": "Some resources are remaining: x"}) is not None
