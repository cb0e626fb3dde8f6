"""The root-ca-cert-publisher against an in-memory client: `kube-root-ca.crt` exists and holds the CA."""

from __future__ import annotations

from typing import Any

from kubelite.controllers.rootcacert import CONFIGMAPS, DESCRIPTION, ROOT_CA_CONFIGMAP, RootCACertPublisher
from tests.support.fakeclient import FakeClient, make_context, seed

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def publisher(fake: FakeClient) -> RootCACertPublisher:
    return RootCACertPublisher(make_context(fake), ca_pem=CA)


def namespace(name: str, **status: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": status}


async def test_publishes_the_ca_in_a_new_namespace() -> None:
    fake = FakeClient()
    controller = publisher(fake)
    seed(controller.namespaces, namespace("team"))
    await controller.reconcile("team")
    created = fake.stored(CONFIGMAPS, ROOT_CA_CONFIGMAP, "team")
    assert created is not None
    assert created["data"] == {"ca.crt": CA}
    assert created["metadata"]["annotations"]["kubernetes.io/description"] == DESCRIPTION


async def test_restores_a_changed_ca_and_leaves_a_current_one_alone() -> None:
    fake = FakeClient()
    controller = publisher(fake)
    seed(controller.namespaces, namespace("team"))
    stale = fake.add(
        CONFIGMAPS,
        {"metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": "team"}, "data": {"ca.crt": "tampered"}},
    )
    seed(controller.configmaps, stale)
    await controller.reconcile("team")
    restored = fake.stored(CONFIGMAPS, ROOT_CA_CONFIGMAP, "team")
    assert restored is not None and restored["data"] == {"ca.crt": CA}
    assert len(fake.verbs("update")) == 1

    fake.sync(controller.configmaps)
    await controller.reconcile("team")
    assert len(fake.verbs("update")) == 1 and fake.verbs("create") == []


async def test_skips_terminating_and_vanished_namespaces() -> None:
    fake = FakeClient()
    controller = publisher(fake)
    seed(controller.namespaces, namespace("leaving", phase="Terminating"))
    await controller.reconcile("leaving")
    await controller.reconcile("never-existed")
    assert fake.verbs("create") == []
