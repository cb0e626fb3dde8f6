"""Field sets (fieldsV1 encoding, path printing) and the typed walks server-side apply is built from."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.patch import fieldpath, typed
from kubelite.api.patch.errors import PatchError
from kubelite.api.patch.fieldpath import Path, field, key, value
from tests.unit.api.patch.fake_schema import DEPLOYMENT, POD

CONTAINERS: Path = (field("spec"), field("containers"))
NGINX: Path = (*CONTAINERS, key({"name": "nginx"}))


def test_fields_v1_round_trip_and_shape() -> None:
    fields = frozenset(
        {
            (field("metadata"), field("labels"), field("app")),
            NGINX,
            (*NGINX, field("image")),
            (*NGINX, field("name")),
            (*NGINX, field("ports"), key({"protocol": "TCP", "containerPort": 80})),
            (field("metadata"), field("finalizers"), value("b")),
            (field("metadata"), field("finalizers"), value("a")),
        }
    )
    encoded = fieldpath.to_fields_v1(fields)
    assert encoded == {
        "f:metadata": {"f:finalizers": {'v:"a"': {}, 'v:"b"': {}}, "f:labels": {"f:app": {}}},
        "f:spec": {
            "f:containers": {
                'k:{"name":"nginx"}': {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {}},
                }
            }
        },
    }
    assert list(encoded["f:metadata"]) == ["f:finalizers", "f:labels"]
    assert fieldpath.from_fields_v1(encoded) == fields


@pytest.mark.parametrize("bad", [[], {"f:spec": []}, {"spec": {}}, {"x:1": {}}, {"k:[1]": {}}])
def test_malformed_fields_v1_is_rejected(bad: Any) -> None:
    with pytest.raises(ValueError):
        fieldpath.from_fields_v1(bad)


def test_paths_print_as_upstream_conflicts_do() -> None:
    assert fieldpath.path_string((*NGINX, field("image"))) == '.spec.containers[name="nginx"].image'
    ports = (*NGINX, field("ports"), key({"protocol": "TCP", "containerPort": 80}))
    assert (
        fieldpath.path_string(ports)
        == '.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]'
    )
    assert (
        fieldpath.path_string((field("metadata"), field("finalizers"), value("a")))
        == '.metadata.finalizers[="a"]'
    )


def test_members_iterate_before_subtrees() -> None:
    paths = [(field("a"), field("b")), (field("z"),), (field("a"), field("b"), field("c")), (field("c"),)]
    assert fieldpath.sorted_paths(paths) == [
        (field("c"),),
        (field("z"),),
        (field("a"), field("b")),
        (field("a"), field("b"), field("c")),
    ]


def test_field_set_of_a_configuration() -> None:
    pod = {
        "apiVersion": "v1",
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "containers": [{"name": "nginx", "ports": [{"containerPort": 80}], "args": ["a"]}],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
            "nodeSelector": {"disk": "ssd"},
            "extra": {"x": 1},
        },
    }
    spec = (field("spec"),)
    assert typed.field_set(pod, POD) == {
        (field("apiVersion"),),
        (field("metadata"), field("labels"), field("app")),
        NGINX,
        (*NGINX, field("name")),
        (*NGINX, field("args")),
        (*NGINX, field("ports"), key({"containerPort": 80, "protocol": "TCP"})),
        (*NGINX, field("ports"), key({"containerPort": 80, "protocol": "TCP"}), field("containerPort")),
        (*spec, field("volumes"), key({"name": "tmp"})),
        (*spec, field("volumes"), key({"name": "tmp"}), field("name")),
        (*spec, field("volumes"), key({"name": "tmp"}), field("emptyDir")),
        (*spec, field("nodeSelector")),
        (*spec, field("extra")),
        (*spec, field("extra"), field("x")),
    }


def test_list_item_without_any_key_is_refused() -> None:
    with pytest.raises(PatchError) as caught:
        typed.field_set({"spec": {"containers": [{"image": "x"}]}}, POD)
    assert caught.value.message == (
        ".spec.containers: element 0: associative list with keys has an element that omits all key fields "
        '["name"] (and doesn\'t have default values for any key fields)'
    )


def test_compare_reports_added_modified_removed() -> None:
    old = {"spec": {"replicas": 1, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    new = {"spec": {"replicas": 2, "strategy": {"type": "RollingUpdate"}, "minReadySeconds": 5}}
    comparison = typed.compare(old, new, DEPLOYMENT)
    rolling = (field("spec"), field("strategy"), field("rollingUpdate"))
    assert comparison.added == {(field("spec"), field("minReadySeconds"))}
    assert comparison.modified == {(field("spec"), field("replicas"))}
    assert comparison.removed == {rolling, (*rolling, field("maxSurge"))}


def c(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, **extra}


# (id, live spec, applied spec, merged spec)
MERGES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "map-list merges items by key; configured items in config order, live-only ones where they were",
        {"containers": [c("a", image="1"), c("b"), c("live-only")]},
        {"containers": [c("b", image="2"), c("a")]},
        {"containers": [c("b", image="2"), c("live-only"), c("a", image="1")]},
    ),
    (
        "map-list item keyed with a defaulted key field",
        {"containers": [c("a", ports=[{"containerPort": 80, "protocol": "TCP", "name": "http"}])]},
        {"containers": [c("a", ports=[{"containerPort": 80, "hostPort": 8080}])]},
        {
            "containers": [
                c("a", ports=[{"containerPort": 80, "protocol": "TCP", "name": "http", "hostPort": 8080}])
            ]
        },
    ),
    (
        "atomic list is replaced",
        {"tolerations": [{"key": "a"}, {"key": "b"}]},
        {"tolerations": [{"key": "c"}]},
        {"tolerations": [{"key": "c"}]},
    ),
    (
        "list without list-type is atomic",
        {"imagePullSecrets": [{"name": "a"}]},
        {"imagePullSecrets": [{"name": "b"}]},
        {"imagePullSecrets": [{"name": "b"}]},
    ),
    (
        "atomic map is replaced",
        {"nodeSelector": {"a": "1"}},
        {"nodeSelector": {"b": "2"}},
        {"nodeSelector": {"b": "2"}},
    ),
    (
        "granular map merges",
        {"securityContext": {"runAsUser": 1}, "dnsPolicy": "x"},
        {"securityContext": {}},
        {"securityContext": {"runAsUser": 1}, "dnsPolicy": "x"},
    ),
    (
        "null in the configuration removes the field",
        {"dnsPolicy": "x", "restartPolicy": "y"},
        {"dnsPolicy": None},
        {"restartPolicy": "y"},
    ),
]


@pytest.mark.parametrize(("live", "config", "merged"), [m[1:] for m in MERGES], ids=[m[0] for m in MERGES])
def test_merge_by_list_and_map_type(
    live: dict[str, Any], config: dict[str, Any], merged: dict[str, Any]
) -> None:
    assert typed.merge({"spec": live}, {"spec": config}, POD) == {"spec": merged}


def test_merge_unions_sets() -> None:
    merged = typed.merge(
        {"metadata": {"finalizers": ["a", "b"]}}, {"metadata": {"finalizers": ["c", "a"]}}, POD
    )
    assert merged == {"metadata": {"finalizers": ["c", "a", "b"]}}


def test_duplicate_keys_in_a_configuration_are_refused() -> None:
    with pytest.raises(PatchError) as caught:
        typed.merge({}, {"spec": {"containers": [c("a"), c("a")]}}, POD)
    assert caught.value.message == '.spec.containers: duplicate entries for key [name="a"]'


def test_remove_drops_items_and_emptied_containers() -> None:
    obj = {
        "spec": {"containers": [c("a", image="1"), c("b", image="2")], "securityContext": {"runAsUser": 1}}
    }
    gone = frozenset(
        {
            (*CONTAINERS, key({"name": "a"})),
            (field("spec"), field("containers"), key({"name": "b"}), field("image")),
            (field("spec"), field("securityContext"), field("runAsUser")),
        }
    )
    assert typed.remove(obj, gone, POD) == {"spec": {"containers": [c("b")]}}
