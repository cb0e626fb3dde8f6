"""Reading requests: paths into RequestInfo, Accept headers, ages and pod STATUS as kubectl prints them."""

from __future__ import annotations

import datetime

import pytest

from kubelite.apiserver import requestinfo
from kubelite.apiserver.discovery import wants_aggregated
from kubelite.apiserver.rest import wants_table
from kubelite.apiserver.tables import human_duration
from kubelite.apiserver.tables.pods import pod_cells


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/api/v1/pods", {}, ("", "v1", "", "pods", "", "", "list")),
        ("GET", "/api/v1/namespaces/ns/pods", {"watch": "true"}, ("", "v1", "ns", "pods", "", "", "watch")),
        ("GET", "/api/v1/namespaces/ns/pods/p/log", {}, ("", "v1", "ns", "pods", "p", "log", "get")),
        (
            "PUT",
            "/api/v1/namespaces/ns/finalize",
            {},
            ("", "v1", "", "namespaces", "ns", "finalize", "update"),
        ),
        ("GET", "/api/v1/namespaces/ns", {}, ("", "v1", "", "namespaces", "ns", "", "get")),
        (
            "DELETE",
            "/apis/apps/v1/namespaces/ns/deployments",
            {},
            ("apps", "v1", "ns", "deployments", "", "", "deletecollection"),
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/ns/deployments/d/scale",
            {},
            ("apps", "v1", "ns", "deployments", "d", "scale", "patch"),
        ),
        (
            "GET",
            "/api/v1/watch/namespaces/ns/configmaps",
            {},
            ("", "v1", "ns", "configmaps", "", "", "watch"),
        ),
        ("POST", "/api/v1/nodes", {}, ("", "v1", "", "nodes", "", "", "create")),
    ],
)
def test_request_info(method: str, path: str, query: dict[str, str], expected: tuple[str, ...]) -> None:
    info = requestinfo.parse(method, path, query)
    assert info is not None
    assert (
        info.group,
        info.version,
        info.namespace,
        info.resource,
        info.name,
        info.subresource,
        info.verb,
    ) == expected


@pytest.mark.parametrize("path", ["/version", "/apis/apps", "/api/v1", "/api/v1/a/b/c/d", "/openapi/v3"])
def test_non_resource_paths(path: str) -> None:
    assert requestinfo.parse("GET", path, {}) is None


def test_accept_headers() -> None:
    assert wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    assert not wants_table("application/json")
    assert wants_aggregated(
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
    )
    assert not wants_aggregated("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (59, "59s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 60, "5h1m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 3600, "3d1h"),
        (40 * 86400, "40d"),
        (800 * 86400, "2y70d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(datetime.timedelta(seconds=seconds)) == text


NOW = datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.UTC)


def _pod(status: dict[str, object], **meta: object) -> dict[str, object]:
    return {
        "metadata": {"name": "p", "creationTimestamp": "2025-01-01T11:00:00Z", **meta},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "init"}]},
        "status": status,
    }


def test_pod_cells() -> None:
    running = {
        "phase": "Running",
        "podIP": "10.42.0.5",
        "initContainerStatuses": [{"state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
        "containerStatuses": [
            {
                "ready": True,
                "restartCount": 2,
                "state": {"running": {}},
                "lastState": {"terminated": {"finishedAt": "2025-01-01T11:55:00Z"}},
            },
            {"ready": False, "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        ],
    }
    assert pod_cells(_pod(running), NOW)[:6] == [
        "p",
        "1/2",
        "CrashLoopBackOff",
        "3 (5m ago)",
        "60m",
        "10.42.0.5",
    ]
    initializing = {
        "phase": "Pending",
        "initContainerStatuses": [{"state": {"waiting": {"reason": "PodInitializing"}}}],
    }
    assert pod_cells(_pod(initializing), NOW)[2] == "Init:0/1"
    init_failed = {"phase": "Pending", "initContainerStatuses": [{"state": {"terminated": {"exitCode": 3}}}]}
    assert pod_cells(_pod(init_failed), NOW)[2] == "Init:ExitCode:3"
    assert (
        pod_cells(_pod({"phase": "Running"}, deletionTimestamp="2025-01-01T12:00:00Z"), NOW)[2]
        == "Terminating"
    )
