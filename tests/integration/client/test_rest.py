"""The REST client against the real API server: every verb, the error mapping, subresources and watch."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kubelite.client import errors, paths
from kubelite.client.frozen import thaw
from kubelite.client.rest import PatchType, RestClient
from tests.integration.apiserver.conftest import RunningServer

CONFIGMAPS = paths.resource("", "v1", "configmaps")
DEPLOYMENTS = paths.kind("apps/v1", "Deployment")
PODS = paths.resource("", "v1", "pods")
NS = "default"


def configmap(name: str, data: dict[str, str] | None = None, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "data": data or {},
    }


async def test_crud_and_watch_round_trip_on_configmaps(client: RestClient) -> None:
    created = await client.create(CONFIGMAPS, configmap("a", {"k": "1"}, app="web"))
    start = created["metadata"]["resourceVersion"]
    async with client.watch(CONFIGMAPS, namespace=NS, resource_version=start, timeout_seconds=10) as events:
        got = await client.get(CONFIGMAPS, "a", namespace=NS)
        assert got["data"] == {"k": "1"} and got["metadata"]["uid"] == created["metadata"]["uid"]

        changed = thaw(got)
        changed["data"]["k"] = "2"
        updated = await client.update(CONFIGMAPS, changed)
        changed["data"]["k"] = "3"  # still carries the old resourceVersion
        with pytest.raises(errors.Conflict, match="has been modified"):
            await client.update(CONFIGMAPS, changed)

        await client.patch(CONFIGMAPS, "a", {"data": {"merge": "m"}}, namespace=NS)
        json_patch = [{"op": "add", "path": "/data/json", "value": "j"}]
        await client.patch(CONFIGMAPS, "a", json_patch, namespace=NS, patch_type=PatchType.JSON)
        strategic = {"metadata": {"labels": {"tier": "front"}}}
        await client.patch(CONFIGMAPS, "a", strategic, namespace=NS, patch_type=PatchType.STRATEGIC)

        intent = configmap("a", {"k": "applied"})
        with pytest.raises(errors.Conflict):  # "k" belongs to the manager that updated it
            await client.apply(CONFIGMAPS, intent, field_manager="tester")
        applied = await client.apply(CONFIGMAPS, intent, field_manager="tester", force=True)
        assert applied["data"] == {"k": "applied", "merge": "m", "json": "j"}
        assert applied["metadata"]["labels"] == {"app": "web", "tier": "front"}
        assert "tester" in {m["manager"] for m in applied["metadata"]["managedFields"]}

        with pytest.raises(errors.Conflict, match="Precondition failed"):
            await client.delete(CONFIGMAPS, "a", namespace=NS, precondition_uid="not-the-uid")
        await client.delete(
            CONFIGMAPS,
            "a",
            namespace=NS,
            precondition_uid=created["metadata"]["uid"],
            propagation_policy="Background",
        )
        seen = []
        async for kind, obj in events:
            seen.append((kind, obj["metadata"]["resourceVersion"]))
            if kind == "DELETED":
                break
    assert [kind for kind, _ in seen] == ["MODIFIED"] * 5 + ["DELETED"]
    assert seen[0][1] == updated["metadata"]["resourceVersion"]
    assert events.resource_version == seen[-1][1]
    with pytest.raises(errors.NotFound, match='configmaps "a" not found'):
        await client.get(CONFIGMAPS, "a", namespace=NS)


async def test_lists_filter_and_page(client: RestClient) -> None:
    for name, app in (("one", "web"), ("two", "web"), ("three", "db")):
        await client.create(CONFIGMAPS, configmap(name, app=app))
    web = await client.list(CONFIGMAPS, namespace=NS, label_selector="app=web")
    assert sorted(i["metadata"]["name"] for i in web["items"]) == ["one", "two"]
    assert all(i["kind"] == "ConfigMap" and i["apiVersion"] == "v1" for i in web["items"])
    not_two = await client.list(CONFIGMAPS, namespace=NS, field_selector="metadata.name!=two")
    assert "two" not in {i["metadata"]["name"] for i in not_two["items"]}
    first_page = await client.list(CONFIGMAPS, namespace=NS, limit=1)
    assert len(first_page["items"]) == 1 and first_page["metadata"]["continue"]
    everything = await client.list_all(CONFIGMAPS, namespace=NS, page_size=1)
    names = {i["metadata"]["name"] for i in everything["items"]}
    assert {"one", "two", "three"} <= names and int(everything["metadata"]["resourceVersion"]) > 0
    across = await client.list_all(CONFIGMAPS, label_selector="app")  # all namespaces
    assert len(across["items"]) == 3


async def test_invalid_objects_carry_their_causes(client: RestClient) -> None:
    with pytest.raises(errors.Invalid) as invalid:
        await client.create(CONFIGMAPS, configmap("Not_Valid"))
    assert invalid.value.code == 422 and invalid.value.causes[0].field == "metadata.name"
    await client.create(CONFIGMAPS, configmap("dup"))
    with pytest.raises(errors.AlreadyExists, match='configmaps "dup" already exists'):
        await client.create(CONFIGMAPS, configmap("dup"))


async def test_status_and_scale_subresources(client: RestClient) -> None:
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    await client.create(DEPLOYMENTS, deployment)
    scale = await client.get(DEPLOYMENTS, "web", namespace=NS, subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    scale["spec"]["replicas"] = 3
    assert (await client.update(DEPLOYMENTS, scale, subresource="scale"))["spec"]["replicas"] == 3
    patched = await client.patch(
        DEPLOYMENTS, "web", {"spec": {"replicas": 4}}, namespace=NS, subresource="scale"
    )
    assert patched["spec"]["replicas"] == 4
    current = await client.get(DEPLOYMENTS, "web", namespace=NS)
    current["status"] = {"observedGeneration": current["metadata"]["generation"], "replicas": 4}
    current["spec"]["replicas"] = 9  # ignored: the status subresource writes status only
    written = await client.update(DEPLOYMENTS, current, subresource="status")
    assert written["status"]["replicas"] == 4 and written["spec"]["replicas"] == 4


async def test_binding_and_eviction_subresources(client: RestClient) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": NS},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    await client.create(PODS, pod)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "n1"},
    }
    try:
        await client.create_subresource(PODS, "p", "binding", binding, namespace=NS)
    except errors.NotFound as exc:
        if "could not find the requested resource" in exc.message:
            pytest.skip("the API server does not serve pods/binding yet")
        raise
    assert (await client.get(PODS, "p", namespace=NS))["spec"]["nodeName"] == "n1"
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p", "namespace": NS}}
    await client.create_subresource(PODS, "p", "eviction", eviction, namespace=NS)
    try:  # a bound pod may linger through its grace period, marked for deletion
        assert (await client.get(PODS, "p", namespace=NS))["metadata"]["deletionTimestamp"]
    except errors.NotFound:
        pass


async def test_bad_credentials_and_unreachable_servers(apiserver: RunningServer, client: RestClient) -> None:
    wrong = RestClient(dataclasses.replace(client.config, token="wrong"))
    unreachable = RestClient(
        dataclasses.replace(client.config, server="https://127.0.0.1:1"), connect_timeout=2
    )
    async with wrong, unreachable:
        with pytest.raises(errors.Unauthorized):
            await wrong.get(CONFIGMAPS, "x", namespace=NS)
        with pytest.raises(errors.TransportError):
            await unreachable.get(CONFIGMAPS, "x", namespace=NS)
        with pytest.raises(errors.TransportError):
            async with unreachable.watch(CONFIGMAPS):
                pass
