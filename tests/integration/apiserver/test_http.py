"""The HTTP surface seen raw: authentication, discovery documents, Status bodies, Tables, watch streams."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from tests.integration.apiserver.conftest import RunningServer

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
CM_PATH = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
async def http(apiserver: RunningServer) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(ssl=apiserver.ssl_context())
    headers = {"Authorization": f"Bearer {apiserver.token}"}
    async with aiohttp.ClientSession(apiserver.url, connector=connector, headers=headers) as session:
        yield session


async def _json(resp: aiohttp.ClientResponse) -> Any:
    return orjson.loads(await resp.read())


async def _create_cm(http: aiohttp.ClientSession, name: str, **labels: str) -> dict[str, Any]:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"a": "1"},
    }
    async with http.post(CM_PATH, json=body) as resp:
        assert resp.status == 201
        created: dict[str, Any] = await _json(resp)
        return created


async def test_public_endpoints_and_401(apiserver: RunningServer) -> None:
    connector = aiohttp.TCPConnector(ssl=apiserver.ssl_context())
    async with aiohttp.ClientSession(apiserver.url, connector=connector) as anonymous:
        for path in ("/version", "/healthz", "/livez", "/readyz"):
            async with anonymous.get(path) as resp:
                assert resp.status == 200, path
        async with anonymous.get("/api/v1/namespaces") as resp:
            assert resp.status == 401
            assert await _json(resp) == {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "Unauthorized",
                "reason": "Unauthorized",
                "code": 401,
            }


async def test_aggregated_discovery(http: aiohttp.ClientSession) -> None:
    for path in ("/api", "/apis"):
        async with http.get(path, headers={"Accept": AGGREGATED + ",application/json"}) as resp:
            assert resp.headers["Content-Type"] == AGGREGATED
            doc = await _json(resp)
        assert doc["kind"] == "APIGroupDiscoveryList"
        for group in doc["items"]:
            for version in group["versions"]:
                for r in version["resources"]:
                    assert r["responseKind"]["kind"], r
                    assert all(s["responseKind"]["kind"] for s in r.get("subresources", []))
    async with http.get("/apis", headers={"Accept": AGGREGATED}) as resp:
        apps = next(g for g in (await _json(resp))["items"] if g["metadata"]["name"] == "apps")
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert "all" in deployments["categories"]


async def test_legacy_discovery(http: aiohttp.ClientSession) -> None:
    async with http.get("/api") as resp:
        assert (await _json(resp))["versions"] == ["v1"]
    async with http.get("/apis") as resp:
        groups = {g["name"]: g for g in (await _json(resp))["groups"]}
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    async with http.get("/api/v1") as resp:
        names = {r["name"] for r in (await _json(resp))["resources"]}
    assert {"pods", "pods/status", "namespaces/finalize", "configmaps"} <= names
    async with http.get("/apis/nope.example.com/v1") as resp:
        assert resp.status == 404


async def test_bodies_that_are_refused(http: aiohttp.ClientSession) -> None:
    async with http.post(CM_PATH, data=b'{"kind": ', headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and (await _json(resp))["reason"] == "BadRequest"
    big = (
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"'
        + b"x" * (3 * 1024 * 1024)
        + b'"}}'
    )
    async with http.post(CM_PATH, data=io.BytesIO(big), headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 413 and (await _json(resp))["reason"] == "RequestEntityTooLarge"
    wrong_version = {"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    async with http.post(CM_PATH, json=wrong_version) as resp:
        assert resp.status == 400
        assert "does not match the expected API version (v1)" in (await _json(resp))["message"]
    async with http.post(
        CM_PATH, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}
    ) as resp:
        status = await _json(resp)
    assert resp.status == 422 and status["reason"] == "Invalid"
    assert status["message"].startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
    )
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    async with http.post(CM_PATH, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}) as resp:
        assert resp.status == 422
        assert (await _json(resp))["message"] == (
            'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
        )
    async with http.get("/api/v1/namespaces/default/nothings") as resp:
        assert resp.status == 404 and (await _json(resp))["kind"] == "Status"
    async with http.get(CM_PATH + "?labelSelector=a+in+(") as resp:
        assert resp.status == 400


async def test_yaml_body_generate_name_and_name_mismatch(http: aiohttp.ClientSession) -> None:
    yaml_body = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: gen-}\n"
        b"data: {when: 2024-01-01T00:00:00Z}\n"
    )
    async with http.post(CM_PATH, data=yaml_body, headers={"Content-Type": "application/yaml"}) as resp:
        created = await _json(resp)
    assert resp.status == 201 and created["metadata"]["name"].startswith("gen-")
    assert created["data"]["when"] == "2024-01-01T00:00:00Z"  # timestamps stay strings
    created["metadata"]["name"] = "other"
    async with http.put(f"{CM_PATH}/{created['metadata']['generateName']}xxxxx", json=created) as resp:
        assert resp.status == 400
        assert "does not match the name on the URL" in (await _json(resp))["message"]


async def test_patch_types(http: aiohttp.ClientSession) -> None:
    await _create_cm(http, "patched")
    json_patch = [{"op": "add", "path": "/data/b", "value": "2"}]
    headers = {"Content-Type": "application/json-patch+json"}
    async with http.patch(f"{CM_PATH}/patched", json=json_patch, headers=headers) as resp:
        assert (await _json(resp))["data"] == {"a": "1", "b": "2"}
    bad_patch = [{"op": "remove", "path": "/data/zzz"}]
    async with http.patch(f"{CM_PATH}/patched", json=bad_patch, headers=headers) as resp:
        assert resp.status == 422
    async with http.patch(f"{CM_PATH}/patched", json={}, headers={"Content-Type": "text/plain"}) as resp:
        assert resp.status == 415
    stale = {"metadata": {"resourceVersion": "1"}, "data": {"c": "3"}}
    merge = {"Content-Type": "application/merge-patch+json"}
    async with http.patch(f"{CM_PATH}/patched", json=stale, headers=merge) as resp:
        assert resp.status == 409 and (await _json(resp))["reason"] == "Conflict"


async def test_strategic_merge_patch_merges_containers_by_name(http: aiohttp.ClientSession) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "smp"},
        "spec": {"containers": [{"name": "a", "image": "one"}, {"name": "b", "image": "two"}]},
    }
    async with http.post("/api/v1/namespaces/default/pods", json=pod) as resp:
        assert resp.status == 201
    patch = {"spec": {"containers": [{"name": "b", "image": "three"}]}}
    headers = {"Content-Type": "application/strategic-merge-patch+json"}
    async with http.patch("/api/v1/namespaces/default/pods/smp", json=patch, headers=headers) as resp:
        containers = (await _json(resp))["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("a", "one"), ("b", "three")]


async def test_table_output(http: aiohttp.ClientSession) -> None:
    await _create_cm(http, "tabled")
    async with http.get(CM_PATH, headers={"Accept": TABLE}) as resp:
        table = await _json(resp)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    row = table["rows"][0]
    assert row["cells"][:2] == ["tabled", 1]
    assert row["object"]["kind"] == "PartialObjectMetadata" and "data" not in row["object"]
    async with http.get(CM_PATH + "?includeObject=Object", headers={"Accept": TABLE}) as resp:
        assert (await _json(resp))["rows"][0]["object"]["data"] == {"a": "1"}
    async with http.get("/api/v1/namespaces/default/secrets", headers={"Accept": TABLE}) as resp:
        assert [c["name"] for c in (await _json(resp))["columnDefinitions"]] == [
            "Name",
            "Type",
            "Data",
            "Age",
        ]
    async with http.get("/api/v1/namespaces", headers={"Accept": TABLE}) as resp:
        rows = {r["cells"][0]: r["cells"][1] for r in (await _json(resp))["rows"]}
    assert rows["default"] == "Active"


async def _watch_lines(
    http: aiohttp.ClientSession, query: str, *, headers: dict[str, str] | None = None
) -> list[Any]:
    async with http.get(f"{CM_PATH}?watch=true&{query}", headers=headers) as resp:
        assert resp.status == 200
        return [orjson.loads(line) async for line in resp.content if line.strip()]


async def test_watch_bookmarks_and_timeout(http: aiohttp.ClientSession) -> None:
    created = await _create_cm(http, "bm")
    started = time.monotonic()
    rv = created["metadata"]["resourceVersion"]
    events = await _watch_lines(http, f"resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3")
    assert 2.5 < time.monotonic() - started < 10
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks and bookmarks[-1]["object"]["kind"] == "ConfigMap"
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) >= int(rv)


async def test_bookmarks_advance_on_a_quiet_watch(http: aiohttp.ClientSession) -> None:
    """Changes elsewhere move a quiet watch's bookmarks forward, so a resume does not start from far back."""
    created = await _create_cm(http, "quiet")
    rv = created["metadata"]["resourceVersion"]

    async def write_secrets() -> int:
        latest = 0
        for i in range(3):
            body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s{i}"}}
            async with http.post("/api/v1/namespaces/default/secrets", json=body) as resp:
                latest = int((await _json(resp))["metadata"]["resourceVersion"])
            await asyncio.sleep(0.5)
        return latest

    watching = asyncio.create_task(
        _watch_lines(http, f"resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=5")
    )
    last_secret = await write_secrets()
    events = await watching
    assert {e["type"] for e in events} == {"BOOKMARK"}
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) >= last_secret


async def test_watch_from_a_compacted_revision_is_410(
    apiserver: RunningServer, http: aiohttp.ClientSession
) -> None:
    first = await _create_cm(http, "old")
    for i in range(3):
        await _create_cm(http, f"newer-{i}")
    store = apiserver.handle.store
    latest = apiserver.call(store.current_revision())
    apiserver.call(store.compact(latest - 1))
    events = await _watch_lines(
        http, f"resourceVersion={first['metadata']['resourceVersion']}&timeoutSeconds=2"
    )
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {first['metadata']['resourceVersion']} (")
    async with http.get(
        f"{CM_PATH}?resourceVersion={first['metadata']['resourceVersion']}&resourceVersionMatch=Exact"
    ) as resp:
        assert resp.status == 410


async def test_watch_table_events(http: aiohttp.ClientSession) -> None:
    created = await _create_cm(http, "tw")
    async with http.delete(f"{CM_PATH}/tw") as resp:
        assert resp.status == 200
    events = await _watch_lines(
        http,
        f"resourceVersion={created['metadata']['resourceVersion']}&timeoutSeconds=1",
        headers={"Accept": TABLE},
    )
    assert [e["type"] for e in events] == ["DELETED"]
    assert events[0]["object"]["kind"] == "Table" and events[0]["object"]["rows"][0]["cells"][0] == "tw"


async def test_list_resource_version_semantics(http: aiohttp.ClientSession) -> None:
    first = await _create_cm(http, "v1")
    await _create_cm(http, "v2")
    rv = first["metadata"]["resourceVersion"]
    async with http.get(f"{CM_PATH}?resourceVersion={rv}&resourceVersionMatch=Exact") as resp:
        exact = await _json(resp)
    assert [i["metadata"]["name"] for i in exact["items"]] == ["v1"] and exact["metadata"][
        "resourceVersion"
    ] == rv
    async with http.get(f"{CM_PATH}?resourceVersion=0") as resp:
        assert len((await _json(resp))["items"]) == 2
    async with http.get(f"{CM_PATH}?resourceVersionMatch=Exact") as resp:
        status = await _json(resp)
    assert (
        resp.status == 422
        and "resourceVersionMatch is forbidden unless resourceVersion is provided" in status["message"]
    )
    async with http.get(f"{CM_PATH}?limit=1&continue=garbage") as resp:
        assert resp.status == 400


async def test_metrics(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/namespaces/default/configmaps/missing") as resp:
        assert resp.status == 404
    async with http.get("/metrics") as resp:
        text = await resp.text()
    assert 'apiserver_request_total{code="404",resource="configmaps",verb="GET"} 1.0' in text
    assert "apiserver_request_duration_seconds_bucket" in text
    assert "apiserver_longrunning_requests" in text
