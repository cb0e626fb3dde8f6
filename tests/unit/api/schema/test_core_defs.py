"""The core/v1, meta/v1 and policy Eviction definitions: complete, consistent with upstream, patch-ready.

Upstream's field sets are checked against the models of the official `kubernetes` Python client (generated
from upstream's OpenAPI): every field the client knows must exist here, under the same JSON name and type.
"""

from __future__ import annotations

import re

import kubernetes.client.models as client_models
import pytest

from kubelite.api.patch.meta import PatchSchema
from kubelite.api.schema import definition, kind_schema
from kubelite.api.schema.dsl import (
    INT_OR_STRING,
    MICRO_TIME,
    QUANTITY,
    RAW_EXTENSION,
    TIME,
    Array,
    MapOf,
    Node,
    Package,
    Ref,
    Scalar,
    Struct,
    definitions,
    string,
)

CORE_KINDS = (
    "Pod",
    "PodTemplate",
    "Namespace",
    "Node",
    "Service",
    "Endpoints",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Event",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ResourceQuota",
    "LimitRange",
    "ReplicationController",
)
MINE = ("io.k8s.api.core.v1.", "io.k8s.apimachinery.", "io.k8s.api.policy.v1.Eviction")


def _my_structs() -> list[Struct]:
    return [node for name, node in definitions() if isinstance(node, Struct) and name.startswith(MINE)]


@pytest.mark.parametrize("kind", CORE_KINDS)
def test_core_kind_and_its_list_are_registered(kind: str) -> None:
    schema = kind_schema("", "v1", kind)
    listing = kind_schema("", "v1", kind + "List")
    assert schema is not None and listing is not None
    assert schema.name == f"io.k8s.api.core.v1.{kind}"
    assert {"apiVersion", "kind", "metadata"} <= set(schema.fields)
    assert ("", "v1", kind) in schema.gvks
    items = listing.fields["items"]
    assert isinstance(items, Array) and items.required
    assert isinstance(items.items, Ref) and items.items.target == schema.name


def test_other_top_level_kinds_are_registered() -> None:
    binding = kind_schema("", "v1", "Binding")
    eviction = kind_schema("policy", "v1", "Eviction")
    assert binding is not None and binding.fields["target"].required
    assert eviction is not None and "deleteOptions" in eviction.fields
    for kind in ("Status", "DeleteOptions", "WatchEvent"):
        schema = kind_schema("", "v1", kind)
        assert schema is not None and schema.name.startswith("io.k8s.apimachinery.pkg.apis.meta.v1.")


def test_every_reference_resolves() -> None:
    def walk(node: Node) -> None:
        if isinstance(node, Ref):
            node.resolved()  # raises KeyError when dangling
        elif isinstance(node, Array):
            walk(node.items)
        elif isinstance(node, MapOf):
            walk(node.values)

    for _, node in definitions():
        if isinstance(node, Struct):
            for field in node.fields.values():
                walk(field)


def _client_model(short_name: str) -> type | None:
    for prefix in ("V1", "CoreV1"):
        model = getattr(client_models, prefix + short_name, None)
        if model is not None:
            return model  # type: ignore[no-any-return]
    return None


def _client_type(node: Node) -> str:
    """The type the Python client's generator derives from upstream's OpenAPI for this node."""
    if isinstance(node, Ref):
        named = {TIME: "datetime", MICRO_TIME: "datetime", QUANTITY: "str", INT_OR_STRING: "object"}
        if node.target in named:
            return named[node.target]
        if node.target == RAW_EXTENSION or node.target.endswith(".FieldsV1"):
            return "object"
        return node.target.rsplit(".", 1)[1]
    if isinstance(node, Array):
        return f"List[{_client_type(node.items)}]"
    if isinstance(node, MapOf):
        return f"Dict[str, {_client_type(node.values)}]"
    assert isinstance(node, Scalar)
    if node.format == "byte":
        return "bytes"
    return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}[node.type]


# Fields the newer client knows but Kubernetes 1.32 does not serve: a 1.32 server refuses them as unknown.
_NOT_IN_1_32 = {("io.k8s.api.core.v1.EnvVarSource", "fileKeyRef")}  # EnvFiles, alpha in 1.34


def test_fields_cover_the_official_client_models_with_the_same_types() -> None:
    compared = 0
    for struct in _my_structs():
        model = _client_model(struct.name.rsplit(".", 1)[1])
        if model is None:
            continue
        compared += 1
        for attribute, json_name in model.attribute_map.items():
            if (struct.name, json_name) in _NOT_IN_1_32:
                assert json_name not in struct.fields, f"{struct.name}.{json_name} is not served by 1.32"
                continue
            assert json_name in struct.fields, f"{struct.name} lacks upstream field {json_name}"
            theirs = re.sub(r"\b(?:V1|CoreV1)(\w+)", r"\1", model.openapi_types[attribute])
            assert _client_type(struct.fields[json_name]) == theirs, f"{struct.name}.{json_name}"
    assert compared > 200


def test_required_fields_match_the_official_client_models() -> None:
    compared = 0
    for struct in _my_structs():
        model = _client_model(struct.name.rsplit(".", 1)[1])
        if model is None:
            continue
        compared += 1
        fields = getattr(model, "model_fields", None)  # pydantic models since client v37
        if fields is None:
            pytest.skip("this kubernetes client's models do not say which fields are required")
        theirs = {
            model.attribute_map[a] for a, f in fields.items() if f.is_required() and a in model.attribute_map
        }
        assert set(struct.required_fields) == theirs, struct.name
    assert compared > 200


def test_descriptions_everywhere() -> None:
    for struct in _my_structs():
        assert struct.description, struct.name
        for name, field in struct.fields.items():
            assert field.description, f"{struct.name}.{name} has no description"


def _pod() -> PatchSchema:
    schema = kind_schema("", "v1", "Pod")
    assert schema is not None
    return schema


def _follow(schema: PatchSchema, *path: str) -> PatchSchema:
    for name in path:
        found = schema.items if name == "[]" else schema.field(name)
        assert found is not None, name
        schema = found
    return schema


@pytest.mark.parametrize(
    ("path", "merge_key", "strategy", "list_type", "map_keys"),
    [
        (("spec", "containers"), "name", "merge", "map", ("name",)),
        (("spec", "initContainers"), "name", "merge", "map", ("name",)),
        (("spec", "volumes"), "name", "merge,retainKeys", "map", ("name",)),
        (("spec", "containers", "[]", "env"), "name", "merge", "map", ("name",)),
        (("spec", "containers", "[]", "volumeMounts"), "mountPath", "merge", "map", ("mountPath",)),
        (
            ("spec", "containers", "[]", "ports"),
            "containerPort",
            "merge",
            "map",
            ("containerPort", "protocol"),
        ),
        (("spec", "tolerations"), None, "", "atomic", ()),
        (("spec", "containers", "[]", "args"), None, "", "atomic", ()),
        (("metadata", "finalizers"), None, "merge", "set", ()),
        (("metadata", "ownerReferences"), "uid", "merge", "map", ("uid",)),
        (("status", "conditions"), "type", "merge", "map", ("type",)),
    ],
)
def test_patch_metadata_of_pod_lists(
    path: tuple[str, ...], merge_key: str | None, strategy: str, list_type: str, map_keys: tuple[str, ...]
) -> None:
    node = _follow(_pod(), *path)
    assert (node.patch_merge_key, node.patch_strategy, node.list_type, node.list_map_keys) == (
        merge_key,
        strategy,
        list_type,
        map_keys,
    )
    assert node.items is not None


def test_patch_view_of_maps_structs_and_unknown_fields() -> None:
    pod = _pod()
    labels = _follow(pod, "metadata", "labels")
    assert labels.field("any-key") is not None and labels.items is None
    assert _follow(pod, "spec", "nodeSelector").map_type == "atomic"
    assert _follow(pod, "spec", "affinity", "podAffinity").map_type == ""
    selector = _follow(pod, "spec", "topologySpreadConstraints", "[]", "labelSelector")
    assert selector.map_type == "atomic"  # LabelSelector is +structType=atomic
    assert pod.field("nope") is None and _follow(pod, "spec").field("nope") is None
    claim_ref = _follow(kind_schema("", "v1", "PersistentVolume"), "spec", "claimRef")  # type: ignore[arg-type]
    assert claim_ref.map_type == "granular"  # the field overrides ObjectReference's atomic


def test_ephemeral_containers_share_the_container_fields() -> None:
    container = definition("io.k8s.api.core.v1.Container")
    ephemeral = definition("io.k8s.api.core.v1.EphemeralContainer")
    assert isinstance(container, Struct) and isinstance(ephemeral, Struct)
    assert set(ephemeral.fields) == set(container.fields) | {"targetContainerName"}


def test_a_definition_cannot_be_declared_twice() -> None:
    package = Package("io.k8s.api.core.v1.")
    with pytest.raises(ValueError, match="declared twice"):
        package.struct("Container", "again", name=string("x"))
