"""managedFields through create, update and server-side apply, as the API server drives manage_write."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubelite.api.patch import fieldpath
from kubelite.api.patch.errors import ApplyConflictError, PatchError
from kubelite.api.patch.fieldmanager import default_field_manager, go_json, manage_write
from tests.unit.api.patch import kubectl_wire
from tests.unit.api.patch.fake_schema import DEPLOYMENT

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=10)
JSON = dict[str, Any]


def write(
    old: JSON | None, new: JSON, manager: str, operation: str = "Update", now: datetime = T0, **options: Any
) -> JSON:
    result = manage_write(
        old,
        new,
        manager=manager,
        operation=operation,
        schema=DEPLOYMENT,
        api_version="apps/v1",
        kind="Deployment",
        now=now,
        **options,
    )
    if old is None:  # what the API server adds on create
        result["metadata"].update(uid="u-1", resourceVersion="1")
    return result


def apply(
    old: JSON | None, config: JSON, manager: str = "kubectl", now: datetime = T0, **options: Any
) -> JSON:
    return write(old, config, manager, "Apply", now, **options)


def deployment(replicas: int = 3, image: str = "nginx:1.26", **spec: Any) -> JSON:
    containers = spec.pop("containers", [{"name": "nginx", "image": image}])
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}},
            **spec,
        },
    }


def entry(obj: JSON, manager: str) -> JSON:
    [found] = [e for e in obj["metadata"].get("managedFields", []) if e["manager"] == manager]
    return found


def owned(obj: JSON, manager: str) -> set[str]:
    return {fieldpath.path_string(p) for p in fieldpath.from_fields_v1(entry(obj, manager)["fieldsV1"])}


def managers(obj: JSON) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"].get("managedFields", [])]


def with_defaults(obj: JSON) -> JSON:
    """What the API server's defaulting adds after an apply: fields nobody owns."""
    defaulted = copy.deepcopy(obj)
    defaulted["spec"]["progressDeadlineSeconds"] = 600
    for container in defaulted["spec"]["template"]["spec"]["containers"]:
        container["imagePullPolicy"] = "IfNotPresent"
    return defaulted


def test_apply_creates_the_object_with_one_apply_entry() -> None:
    created = apply(
        None, deployment(containers=[{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}])
    )

    assert created["spec"]["replicas"] == 3
    assert created["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": "2025-03-01T12:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {"f:matchLabels": {"f:app": {}}},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"nginx"}': {
                                    ".": {},
                                    "f:image": {},
                                    "f:name": {},
                                    "f:ports": {
                                        'k:{"containerPort":80,"protocol":"TCP"}': {
                                            ".": {},
                                            "f:containerPort": {},
                                        }
                                    },
                                }
                            }
                        },
                    },
                }
            },
        }
    ]


def test_reapplying_the_same_configuration_changes_nothing() -> None:
    live = with_defaults(apply(None, deployment()))
    assert apply(live, deployment(), now=T1) == live


def test_fields_dropped_from_the_configuration_are_removed() -> None:
    config = deployment(
        minReadySeconds=5,
        strategy={"type": "Recreate"},
        containers=[
            {
                "name": "nginx",
                "image": "nginx",
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            },
            {"name": "sidecar", "image": "busybox"},
        ],
    )
    live = with_defaults(apply(None, config))
    smaller = deployment(
        containers=[{"name": "nginx", "image": "nginx", "env": [{"name": "A", "value": "1"}]}]
    )

    result = apply(live, smaller, now=T1)

    assert "minReadySeconds" not in result["spec"] and "strategy" not in result["spec"]
    assert result["spec"]["progressDeadlineSeconds"] == 600, "unowned fields survive"
    assert result["spec"]["template"]["spec"]["containers"] == [
        {
            "name": "nginx",
            "image": "nginx",
            "env": [{"name": "A", "value": "1"}],
            "imagePullPolicy": "IfNotPresent",
        }
    ]
    assert entry(result, "kubectl")["time"] == "2025-03-01T12:05:00Z"
    assert ".spec.minReadySeconds" not in owned(result, "kubectl")


def test_a_dropped_field_another_manager_still_owns_stays() -> None:
    live = apply(None, deployment(minReadySeconds=5))
    live = apply(live, {**deployment(minReadySeconds=5), "spec": {"minReadySeconds": 5}}, manager="other")
    assert ".spec.minReadySeconds" in owned(live, "kubectl") & owned(live, "other")

    result = apply(live, deployment(), now=T1)

    assert result["spec"]["minReadySeconds"] == 5
    assert ".spec.minReadySeconds" not in owned(result, "kubectl")


def test_applying_null_to_a_map_gives_up_only_what_the_applier_set() -> None:
    live = apply(None, deployment(strategy={"rollingUpdate": {"maxSurge": 1}}))
    controlled = copy.deepcopy(live)
    controlled["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = 0
    live = write(live, controlled, "controller", now=T1)

    result = apply(live, deployment(strategy={"rollingUpdate": None}), now=T2)

    assert result["spec"]["strategy"] == {"rollingUpdate": {"maxUnavailable": 0}}
    assert ".spec.strategy.rollingUpdate" in owned(result, "kubectl")


def test_conflict_with_a_manager_that_set_a_different_value() -> None:
    live = write(None, deployment(replicas=1), "kubectl-create")
    with pytest.raises(ApplyConflictError) as caught:
        apply(live, deployment(replicas=3))

    assert caught.value.code == 409
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.replicas'
    )
    assert caught.value.causes == [
        {
            "reason": "FieldManagerConflict",
            "field": ".spec.replicas",
            "message": 'conflict with "kubectl-create" using apps/v1',
        }
    ]


def test_conflicts_with_several_managers() -> None:
    live = write(None, deployment(replicas=1, image="nginx:1.25"), "kubectl-create")
    live = apply(live, {**deployment(), "spec": {"minReadySeconds": 1}}, manager="tuner")
    with pytest.raises(ApplyConflictError) as caught:
        apply(live, deployment(replicas=3, image="nginx:1.26", minReadySeconds=2))
    assert caught.value.message == (
        'Apply failed with 3 conflicts: conflicts with "kubectl-create" using apps/v1:\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="nginx"].image\n'
        'conflicts with "tuner":\n'
        "- .spec.minReadySeconds"
    )


def test_same_value_is_shared_not_a_conflict() -> None:
    live = write(None, deployment(replicas=3), "kubectl-create")
    result = apply(live, deployment(replicas=3))
    assert ".spec.replicas" in owned(result, "kubectl") & owned(result, "kubectl-create")


def test_force_moves_ownership() -> None:
    live = write(None, deployment(replicas=1), "kubectl-create")
    result = apply(live, deployment(replicas=3), force=True)
    assert result["spec"]["replicas"] == 3
    assert ".spec.replicas" in owned(result, "kubectl")
    assert ".spec.replicas" not in owned(result, "kubectl-create")


def test_an_update_takes_the_fields_it_changes() -> None:
    created = write(None, deployment(replicas=1), "kubectl-create")
    assert owned(created, "kubectl-create") >= {
        ".spec.replicas",
        '.spec.template.spec.containers[name="nginx"].image',
    }

    edited_spec = copy.deepcopy(created)
    edited_spec["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    edited = write(created, edited_spec, "kubectl-edit", now=T1)

    assert owned(edited, "kubectl-edit") == {'.spec.template.spec.containers[name="nginx"].image'}
    assert '.spec.template.spec.containers[name="nginx"].image' not in owned(edited, "kubectl-create")
    assert [(e["manager"], e["time"]) for e in edited["metadata"]["managedFields"]] == [
        ("kubectl-create", "2025-03-01T12:00:00Z"),
        ("kubectl-edit", "2025-03-01T12:05:00Z"),
    ]

    with pytest.raises(ApplyConflictError) as caught:
        apply(edited, deployment(replicas=1, image="nginx:1.26"))
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: '
        '.spec.template.spec.containers[name="nginx"].image'
    )


def test_an_update_that_changes_nothing_keeps_managed_fields() -> None:
    created = write(None, deployment(), "kubectl-create")
    assert write(created, copy.deepcopy(created), "kubectl-edit", now=T1) == created


def test_removed_fields_leave_every_manager() -> None:
    created = write(None, deployment(minReadySeconds=5), "kubectl-create")
    smaller = copy.deepcopy(created)
    del smaller["spec"]["minReadySeconds"]
    result = write(created, smaller, "kubectl-edit", now=T1)
    assert ".spec.minReadySeconds" not in owned(result, "kubectl-create")
    assert managers(result) == [("kubectl-create", "Update")]


def test_objects_created_before_tracking_stay_untracked_until_applied() -> None:
    untracked = {**deployment(replicas=1), "metadata": {"name": "web", "uid": "u-9"}}
    updated = write(untracked, {**untracked, "spec": {**untracked["spec"], "replicas": 2}}, "kubectl-edit")
    assert "managedFields" not in updated["metadata"]

    applied = apply(updated, deployment(replicas=2, minReadySeconds=3))
    assert managers(applied) == [("kubectl", "Apply"), ("before-first-apply", "Update")]
    assert ".spec.replicas" in owned(applied, "before-first-apply") & owned(applied, "kubectl")


def test_a_request_can_clear_managed_fields() -> None:
    created = write(None, deployment(), "kubectl-create")
    cleared = copy.deepcopy(created)
    cleared["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in write(created, cleared, "kubectl-edit")["metadata"]


def test_update_entries_are_capped_at_ten() -> None:
    obj = write(None, deployment(replicas=0), "creator")
    for number in range(1, 12):
        changed = copy.deepcopy(obj)
        changed["spec"]["replicas"] = number
        changed["metadata"].setdefault("labels", {})[f"by-{number}"] = "x"
        obj = write(obj, changed, f"writer-{number}", now=T0 + timedelta(minutes=number))
    names = [name for name, _ in managers(obj)]
    assert len(names) == 10 and names[0] == "ancient-changes"
    assert {".metadata.labels.by-1", ".metadata.labels.by-2"} <= owned(obj, "ancient-changes")
    assert "creator" not in names and "writer-1" not in names and "writer-11" in names


def test_reset_fields_are_never_owned() -> None:
    created = write(
        None, {**deployment(), "status": {"replicas": 3}}, "kubectl-create", reset_fields=[("status",)]
    )
    assert not any(path.startswith(".status") for path in owned(created, "kubectl-create"))


def test_subresource_writes_get_their_own_entry() -> None:
    created = write(None, deployment(), "kubectl-create")
    scaled = copy.deepcopy(created)
    scaled["spec"]["replicas"] = 7
    result = write(created, scaled, "kubectl", subresource="scale", now=T1)
    assert entry(result, "kubectl")["subresource"] == "scale"
    with pytest.raises(ApplyConflictError) as caught:
        apply(result, deployment(replicas=1), manager="ci")
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl" with subresource '
        '"scale" using apps/v1: .spec.replicas'
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({**deployment(), "kind": "Pod"}, "invalid object type: apps/v1, Kind=Pod"),
        ({**deployment(), "apiVersion": "v1"}, "invalid object type: /v1, Kind=Deployment"),
        (
            {**deployment(), "metadata": {"name": "web", "managedFields": []}},
            "metadata.managedFields must be nil",
        ),
    ],
)
def test_bad_apply_requests(config: JSON, message: str) -> None:
    with pytest.raises(PatchError) as caught:
        apply(None, config)
    assert (caught.value.code, caught.value.message) == (400, message)


def client_side_applied() -> JSON:
    """LIVE_DEPLOYMENT as the server stored it when `kubectl apply` (client-side) created it."""
    return write(None, kubectl_wire.LIVE_DEPLOYMENT, "kubectl-client-side-apply")


def test_kubectl_server_side_apply_takes_over_from_client_side_apply() -> None:
    config = json.loads(kubectl_wire.SERVER_SIDE_APPLY)
    del config["spec"]["strategy"]

    result = apply(client_side_applied(), config, now=T1)

    assert result["spec"]["replicas"] == 3
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == [
        "init-log",
        "nginx",
        "sidecar",
    ]
    assert ".spec.replicas" in owned(result, "kubectl")
    assert ".spec.replicas" not in owned(result, "kubectl-client-side-apply")
    annotation = result["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert annotation == go_json(config) + "\n"

    # kubectl then re-applies the annotation it got back, as its own manager, so SSA never prunes it.
    follow_up = json.loads(kubectl_wire.SERVER_SIDE_LAST_APPLIED)
    follow_up["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = annotation
    kept = apply(result, follow_up, manager="kubectl-last-applied", now=T2)
    assert kept["spec"] == result["spec"]
    assert owned(kept, "kubectl-last-applied") == {
        ".metadata.annotations.kubectl.kubernetes.io/last-applied-configuration"
    }


def test_take_over_covers_only_what_the_last_applied_configuration_recorded() -> None:
    # The captured apply also switches the strategy, a field client-side apply never set: the server
    # defaulted it, so its creator owns it and nothing excuses the conflict.
    with pytest.raises(ApplyConflictError) as caught:
        apply(client_side_applied(), json.loads(kubectl_wire.SERVER_SIDE_APPLY))
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
        "using apps/v1: .spec.strategy.type"
    )


def test_other_appliers_conflict_with_client_side_apply() -> None:
    with pytest.raises(ApplyConflictError) as caught:
        apply(client_side_applied(), json.loads(kubectl_wire.SERVER_SIDE_APPLY), manager="my-pipeline")
    assert caught.value.message == (
        'Apply failed with 3 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n'
        "- .spec.replicas\n"
        "- .spec.strategy.type\n"
        '- .spec.template.spec.containers[name="nginx"].image'
    )


def test_default_field_manager_comes_from_the_user_agent() -> None:
    assert default_field_manager("kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd") == "kubectl"
    assert default_field_manager("Go-http-client/1.1") == "Go-http-client"
    assert default_field_manager("OpenAPI-Generator/37.0.0/python") == "OpenAPI-Generator"
    assert default_field_manager("x" * 200) == "x" * 128
    assert default_field_manager("bad\x00name/1") == "badname"
