"""The serviceaccount controller against an in-memory client: `default` exists in every live namespace."""

from __future__ import annotations

from kubelite.controllers.serviceaccount import SERVICEACCOUNTS, ServiceAccountController
from tests.support.fakeclient import FakeClient, make_context, seed


def controller(fake: FakeClient) -> ServiceAccountController:
    return ServiceAccountController(make_context(fake))


def namespace(name: str, **status: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": status}


async def test_creates_the_default_account_in_a_new_namespace() -> None:
    fake = FakeClient()
    sa = controller(fake)
    seed(sa.namespaces, namespace("team"))
    await sa.reconcile("team")
    created = fake.stored(SERVICEACCOUNTS, "default", "team")
    assert created is not None and created["metadata"]["namespace"] == "team"


async def test_leaves_an_existing_default_account_alone() -> None:
    fake = FakeClient()
    sa = controller(fake)
    account = {"metadata": {"name": "default", "namespace": "team", "uid": "u1", "resourceVersion": "1"}}
    seed(sa.namespaces, namespace("team"))
    seed(sa.accounts, account)
    await sa.reconcile("team")
    assert fake.verbs("create") == []


async def test_skips_terminating_and_vanished_namespaces() -> None:
    fake = FakeClient()
    sa = controller(fake)
    seed(sa.namespaces, namespace("leaving", phase="Terminating"))
    await sa.reconcile("leaving")
    await sa.reconcile("never-existed")
    assert fake.verbs("create") == []
