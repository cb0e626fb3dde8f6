"""The official `kubernetes` Python client against a running server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client, watch

from tests.integration.apiserver.conftest import RunningServer


@pytest.fixture
def core(apiserver: RunningServer) -> Any:
    return client.CoreV1Api(apiserver.python_client())


def _status(exc: client.ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def _configmap(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


def test_stale_update_is_a_conflict_with_upstreams_words(core: Any) -> None:
    first = core.create_namespaced_config_map("default", _configmap("cc"))
    first.data["k"] = "w"
    second = core.replace_namespaced_config_map("cc", "default", first)
    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
    with pytest.raises(client.ApiException) as stale:
        core.replace_namespaced_config_map("cc", "default", first)  # still carries the old resourceVersion
    assert stale.value.status == 409
    assert _status(stale.value)["message"] == (
        'Operation cannot be fulfilled on configmaps "cc": the object has been modified; please apply your '
        "changes to the latest version and try again"
    )


def test_update_without_resource_version_is_unconditional(core: Any) -> None:
    core.create_namespaced_config_map("default", _configmap("free"))
    body = {"metadata": {"name": "free"}, "data": {"k": "new"}}
    assert core.replace_namespaced_config_map("free", "default", body).data == {"k": "new"}


def test_not_found_and_missing_namespace(core: Any) -> None:
    with pytest.raises(client.ApiException) as missing:
        core.read_namespaced_config_map("nope", "default")
    assert missing.value.status == 404
    with pytest.raises(client.ApiException) as no_ns:
        core.create_namespaced_config_map("ghost", _configmap("x"))
    assert no_ns.value.status == 404 and _status(no_ns.value)["message"] == 'namespaces "ghost" not found'


def test_paging_with_limit_and_continue(core: Any) -> None:
    for i in range(5):
        core.create_namespaced_config_map("default", _configmap(f"p{i}"))
    seen: list[str] = []
    token = None
    revisions = set()
    pages = 0
    while True:
        page = core.list_namespaced_config_map("default", limit=2, _continue=token)
        seen += [i.metadata.name for i in page.items]
        revisions.add(page.metadata.resource_version)
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"p{i}" for i in range(5)]
    assert pages == 3 and len(revisions) == 1  # every page read the first page's snapshot


def test_watch_resumes_from_a_resource_version(core: Any) -> None:
    created = core.create_namespaced_config_map("default", _configmap("w1"))
    core.patch_namespaced_config_map("w1", "default", {"data": {"k": "2"}})
    core.delete_namespaced_config_map("w1", "default")
    w = watch.Watch()
    events = [
        (e["type"], e["object"].metadata.name)
        for e in w.stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=created.metadata.resource_version,
            timeout_seconds=1,
        )
    ]
    assert events == [("MODIFIED", "w1"), ("DELETED", "w1")]


def test_watch_without_version_starts_with_the_current_state(core: Any) -> None:
    core.create_namespaced_config_map("default", _configmap("a", app="x"))
    core.create_namespaced_config_map("default", _configmap("b", app="y"))
    w = watch.Watch()
    events = [
        (e["type"], e["object"].metadata.name)
        for e in w.stream(
            core.list_namespaced_config_map, "default", label_selector="app=x", timeout_seconds=1
        )
    ]
    assert events == [("ADDED", "a")]


def test_status_subresource_and_generation(core: Any) -> None:
    rc = {
        "metadata": {"name": "gen"},
        "spec": {
            "replicas": 1,
            "selector": {"app": "gen"},
            "template": {
                "metadata": {"labels": {"app": "gen"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    created = core.create_namespaced_replication_controller("default", rc)
    assert created.metadata.generation == 1

    # A status write changes status only.
    status_body = {"metadata": {"name": "gen", "labels": {"ignored": "yes"}}, "status": {"replicas": 1}}
    after_status = core.patch_namespaced_replication_controller_status("gen", "default", status_body)
    assert after_status.status.replicas == 1
    assert after_status.metadata.labels == {"app": "gen"} and after_status.metadata.generation == 1

    # A main-resource write ignores status; labels do not bump generation, spec does.
    relabelled = core.patch_namespaced_replication_controller(
        "gen", "default", {"metadata": {"labels": {"a": "b"}}, "status": {"replicas": 7}}
    )
    assert relabelled.status.replicas == 1 and relabelled.metadata.generation == 1
    respecced = core.patch_namespaced_replication_controller("gen", "default", {"spec": {"replicas": 2}})
    assert respecced.metadata.generation == 2


def test_pods_have_no_generation_as_in_1_32(core: Any) -> None:
    pod = {"metadata": {"name": "gen"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    created = core.create_namespaced_pod("default", pod)
    assert created.metadata.generation is None
    assert (created.status.phase, created.status.qos_class) == ("Pending", "BestEffort")
    after_status = core.patch_namespaced_pod_status("gen", "default", {"status": {"phase": "Running"}})
    assert after_status.status.phase == "Running"
    respecced = core.patch_namespaced_pod("gen", "default", {"spec": {"activeDeadlineSeconds": 30}})
    assert respecced.metadata.generation is None and respecced.status.phase == "Running"


def test_finalizers_hold_deletion_until_removed(core: Any) -> None:
    body = _configmap("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map("default", body)
    core.delete_namespaced_config_map("held", "default")
    still = core.read_namespaced_config_map("held", "default")
    assert still.metadata.deletion_timestamp is not None
    assert still.metadata.finalizers == ["example.com/hold"]
    with pytest.raises(client.ApiException) as adding:
        core.patch_namespaced_config_map(
            "held", "default", {"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}
        )
    assert adding.value.status == 422
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(client.ApiException) as gone:
        core.read_namespaced_config_map("held", "default")
    assert gone.value.status == 404


def test_foreground_deletion_is_recorded_as_a_finalizer(core: Any) -> None:
    core.create_namespaced_config_map("default", _configmap("fg"))
    core.delete_namespaced_config_map("fg", "default", propagation_policy="Foreground")
    assert core.read_namespaced_config_map("fg", "default").metadata.finalizers == ["foregroundDeletion"]


def test_delete_preconditions(core: Any) -> None:
    created = core.create_namespaced_config_map("default", _configmap("pre"))
    with pytest.raises(client.ApiException) as wrong:
        core.delete_namespaced_config_map(
            "pre", "default", body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="other"))
        )
    assert wrong.value.status == 409
    assert "Precondition failed: UID in precondition: other" in _status(wrong.value)["message"]
    core.delete_namespaced_config_map(
        "pre",
        "default",
        body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=created.metadata.uid)),
    )


def test_delete_collection_and_selectors(core: Any) -> None:
    core.create_namespaced_config_map("default", _configmap("keep", tier="db"))
    core.create_namespaced_config_map("default", _configmap("drop1", tier="web"))
    core.create_namespaced_config_map("default", _configmap("drop2", tier="web"))
    core.delete_collection_namespaced_config_map("default", label_selector="tier=web")
    names = [c.metadata.name for c in core.list_namespaced_config_map("default").items]
    assert names == ["keep"]
    by_field = core.list_config_map_for_all_namespaces(field_selector="metadata.name=keep")
    assert [c.metadata.namespace for c in by_field.items] == ["default"]
    with pytest.raises(client.ApiException) as bad:
        core.list_namespaced_config_map("default", field_selector="data.k=v")
    assert bad.value.status == 400 and _status(bad.value)["message"] == "field label not supported: data.k"


def test_pod_field_selectors(core: Any) -> None:
    for name, node in (("on-a", "a"), ("on-b", "b")):
        pod = {
            "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
        }
        core.create_namespaced_pod("default", pod)
    on_a = core.list_namespaced_pod("default", field_selector="spec.nodeName=a,status.phase=Pending")
    assert [p.metadata.name for p in on_a.items] == ["on-a"]
    not_a = core.list_pod_for_all_namespaces(field_selector="spec.nodeName!=a")
    assert [p.metadata.name for p in not_a.items] == ["on-b"]


def test_scheduled_pod_deletes_gracefully(core: Any) -> None:
    pod = {
        "metadata": {"name": "graceful"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
    }
    core.create_namespaced_pod("default", pod)
    core.delete_namespaced_pod("graceful", "default")
    lingering = core.read_namespaced_pod("graceful", "default")
    assert lingering.metadata.deletion_grace_period_seconds == 30
    core.delete_namespaced_pod("graceful", "default", grace_period_seconds=0)  # the node agent confirms
    with pytest.raises(client.ApiException) as gone:
        core.read_namespaced_pod("graceful", "default")
    assert gone.value.status == 404


def test_namespace_finalize_completes_deletion(core: Any) -> None:
    core.create_namespace({"metadata": {"name": "short-lived"}})
    core.delete_namespace("short-lived")
    current = core.read_namespace("short-lived")
    assert current.status.phase == "Terminating" and current.spec.finalizers == ["kubernetes"]
    current.spec.finalizers = []
    core.replace_namespace_finalize("short-lived", current)
    with pytest.raises(client.ApiException) as gone:
        core.read_namespace("short-lived")
    assert gone.value.status == 404
