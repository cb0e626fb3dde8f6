"""OpenAPI documents: what kubectl looks for in them, simulated the way kubectl 1.32 does it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from kubelite.api import resources
from kubelite.api.schema import kind_schema, openapi
from kubelite.api.schema.openapi_paths import PATCH_TYPES

PATCH_MEDIA = set(PATCH_TYPES)
SERVED = [r for r in resources.RESOURCES if kind_schema(r.group, r.version, r.kind) is not None]
PATCHABLE = [r for r in SERVED if "patch" in r.verbs]  # not bindings: create only, as upstream
CORE = [r for r in resources.RESOURCES if r.group == ""]


def _v3(group_version_path: str) -> dict[str, Any]:
    document = openapi.v3_document(group_version_path)
    assert document is not None, group_version_path
    return json.loads(document.body)  # type: ignore[no-any-return]


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def test_every_core_resource_has_a_schema() -> None:
    assert all(kind_schema(r.group, r.version, r.kind) is not None for r in CORE)


def test_index_points_at_each_document_with_its_hash() -> None:
    index = json.loads(openapi.v3_index().body)
    assert {"api/v1", "apis/apps/v1"} <= set(index["paths"])
    for gv_path, entry in index["paths"].items():
        document = openapi.v3_document(gv_path)
        assert document is not None
        assert document.hash == hashlib.sha512(document.body).hexdigest().upper()
        assert entry == {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={document.hash}"}
    assert openapi.v3_document("apis/nothing/v1") is None
    assert openapi.v3_index() is openapi.v3_index()  # built once


def _supports_field_validation(document: dict[str, Any], gvk: dict[str, str]) -> bool:
    """kubectl's supportsQueryParamV3: the first patch operation of the kind decides."""
    for item in document["paths"].values():
        operation = item.get("patch")
        if operation is None or operation.get("x-kubernetes-group-version-kind") != gvk:
            continue
        return any(p["name"] == "fieldValidation" and p["in"] == "query" for p in operation["parameters"])
    return False


@pytest.mark.parametrize("resource", PATCHABLE, ids=lambda r: f"{r.group_version_path}/{r.plural}")
def test_kubectl_trusts_server_side_validation(resource: resources.Resource) -> None:
    document = _v3(resource.group_version_path)
    gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
    assert _supports_field_validation(document, gvk)
    patches = [item["patch"] for item in document["paths"].values() if "patch" in item]
    for operation in (op for op in patches if op["x-kubernetes-action"] == "patch"):  # not proxy's connect
        assert any(p["name"] == "fieldValidation" for p in operation["parameters"])
        assert set(operation["requestBody"]["content"]) == PATCH_MEDIA


def test_core_paths_are_the_real_rest_paths() -> None:
    paths = _v3("api/v1")["paths"]
    pod = paths["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert {"get", "put", "patch", "delete"} <= set(pod)
    assert [p["name"] for p in pod["parameters"]] == ["name", "namespace", "pretty"]
    assert {"get", "post", "delete"} <= set(paths["/api/v1/namespaces/{namespace}/pods"])
    assert set(paths["/api/v1/pods"]) == {"parameters", "get"}
    assert {"get", "put", "patch"} <= set(paths["/api/v1/namespaces/{namespace}/pods/{name}/status"])
    assert "post" in paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]
    assert "post" in paths["/api/v1/namespaces/{namespace}/pods/{name}/binding"]
    assert {"get", "post"} <= set(paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"])
    assert "get" in paths["/api/v1/namespaces/{namespace}/pods/{name}/log"]
    assert "patch" in paths["/api/v1/nodes/{name}"]
    assert "delete" not in paths["/api/v1/namespaces"]  # namespaces have no deletecollection
    scale = paths["/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
    }


def test_v3_components_are_complete_and_marked() -> None:
    for gv_path in json.loads(openapi.v3_index().body)["paths"]:
        document = _v3(gv_path)
        schemas = document["components"]["schemas"]
        for ref in _refs(document):
            assert ref.removeprefix("#/components/schemas/") in schemas, (gv_path, ref)
    schemas = _v3("api/v1")["components"]["schemas"]
    assert schemas["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"] == [
        {"group": "", "version": "v1", "kind": "Pod"}
    ]
    assert schemas["io.k8s.api.core.v1.Container"]["required"] == ["name"]
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]["x-kubernetes-map-type"] == "atomic"
    assert "io.k8s.api.policy.v1.Eviction" in schemas


@pytest.mark.parametrize(
    ("definition", "field", "merge_key", "strategy", "map_keys"),
    [
        ("PodSpec", "containers", "name", "merge", ["name"]),
        ("PodSpec", "volumes", "name", "merge,retainKeys", ["name"]),
        ("Container", "env", "name", "merge", ["name"]),
        ("Container", "volumeMounts", "mountPath", "merge", ["mountPath"]),
        ("Container", "ports", "containerPort", "merge", ["containerPort", "protocol"]),
        ("ServiceSpec", "ports", "port", "merge", ["port", "protocol"]),
    ],
)
@pytest.mark.parametrize("version", ["v3", "v2"])
def test_patch_extensions(
    version: str, definition: str, field: str, merge_key: str, strategy: str, map_keys: list[str]
) -> None:
    if version == "v3":
        schemas = _v3("api/v1")["components"]["schemas"]
    else:
        schemas = json.loads(openapi.v2_document().body)["definitions"]
    prop = schemas[f"io.k8s.api.core.v1.{definition}"]["properties"][field]
    assert prop["type"] == "array"
    assert prop["x-kubernetes-patch-merge-key"] == merge_key
    assert prop["x-kubernetes-patch-strategy"] == strategy
    assert prop["x-kubernetes-list-type"] == "map"
    assert prop["x-kubernetes-list-map-keys"] == map_keys


def test_v2_document() -> None:
    document = json.loads(openapi.v2_document().body)
    assert document["swagger"] == "2.0"
    definitions = document["definitions"]
    for ref in _refs(document):
        assert ref.removeprefix("#/definitions/") in definitions, ref
    patch = document["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    assert set(patch["consumes"]) == PATCH_MEDIA
    assert patch["parameters"][0]["in"] == "body"
    quantity = definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert quantity["type"] == "string"


# ---- kubectl explain, simulated ----


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref and single-element allOf to the schema that has the structure."""
    while True:
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].removeprefix("#/components/schemas/")]
        elif len(schema.get("allOf", ())) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        else:
            return schema


def _explain(document: dict[str, Any], gvk: dict[str, str], path: str) -> str:
    """The description kubectl explain prints for `path` (dotted, as `kubectl explain pods.spec...`)."""
    [schema] = [
        s
        for s in document["components"]["schemas"].values()
        if gvk in s.get("x-kubernetes-group-version-kind", [])
    ]
    for name in path.split("."):
        structure = _resolve(document, schema)
        while "items" in structure or "additionalProperties" in structure:  # explain walks through lists
            structure = _resolve(document, structure.get("items") or structure["additionalProperties"])
        schema = structure["properties"][name]
    return str(schema["description"])


def test_explain_finds_descriptions() -> None:
    document = _v3("api/v1")
    pod = {"group": "", "version": "v1", "kind": "Pod"}
    assert _explain(document, pod, "spec.containers.image") == "Container image name."
    assert _explain(document, pod, "spec.restartPolicy") == "Always (default), OnFailure or Never."
    assert _explain(document, pod, "spec.containers.ports.containerPort").startswith("Port number")
    assert _explain(document, pod, "metadata.labels") != ""
    service = {"group": "", "version": "v1", "kind": "Service"}
    assert _explain(document, service, "spec.ports.targetPort").startswith("Port number or name")
