"""The OpenAPI v2 document in gnostic's protobuf encoding, read back with a minimal wire reader of its own
and checked where kubectl looks: definitions by their group-version-kind, field types, and the fieldValidation
parameter of each kind's patch operation."""

from __future__ import annotations

import json
import struct
from collections import defaultdict
from typing import Any

import pytest
import yaml

from kubelite.api.schema import openapi, openapi_v2_proto

Fields = dict[int, list[Any]]  # field number -> values (bytes for length-delimited, int or float otherwise)


def read(data: bytes) -> Fields:
    """One message's fields; nested messages stay bytes until read in turn."""
    fields: Fields = defaultdict(list)
    at = 0

    def varint() -> int:
        nonlocal at
        value = shift = 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while at < len(data):
        key = varint()
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            fields[number].append(varint())
        elif wire_type == 1:
            fields[number].append(struct.unpack_from("<d", data, at)[0])
            at += 8
        elif wire_type == 2:
            length = varint()
            fields[number].append(data[at : at + length])
            at += length
        else:
            raise AssertionError(f"unexpected wire type {wire_type} of field {number}")
    assert at == len(data)
    return fields


def text(fields: Fields, number: int) -> str:
    (value,) = fields[number]
    return bytes(value).decode()


def named(entries: list[bytes]) -> dict[str, Fields]:
    """gnostic Named* pairs {name = 1, value = 2} as a dict of the values' fields."""
    pairs = [read(entry) for entry in entries]
    return {text(pair, 1): read(pair[2][0]) for pair in pairs}


def extensions(entries: list[bytes]) -> dict[str, Any]:
    """NamedAny vendor extensions, their Any {yaml = 2} values parsed."""
    return {name: yaml.safe_load(text(value, 2)) for name, value in named(entries).items()}


@pytest.fixture(scope="module")
def document() -> Fields:
    return read(openapi_v2_proto.v2_protobuf_document().body)


@pytest.fixture(scope="module")
def definitions(document: Fields) -> dict[str, Fields]:
    return named(read(document[9][0])[1])


def test_header_and_definitions(document: Fields, definitions: dict[str, Fields]) -> None:
    assert text(document, 1) == "2.0"
    info = read(document[2][0])
    assert (text(info, 1), text(info, 2)) == ("Kubernetes", "unversioned")
    source = json.loads(openapi.v2_document().body)
    assert list(definitions) == list(source["definitions"])


def test_definition_carries_its_kind_and_field_types(definitions: dict[str, Fields]) -> None:
    deployment = definitions["io.k8s.api.apps.v1.Deployment"]
    assert extensions(deployment[31])["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    properties = named(read(deployment[25][0])[1])
    assert text(properties["spec"], 1) == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"

    spec = definitions["io.k8s.api.apps.v1.DeploymentSpec"]
    assert [bytes(name).decode() for name in spec[19]] == ["selector", "template"]  # required
    replicas = named(read(spec[25][0])[1])["replicas"]
    assert [bytes(t).decode() for t in read(replicas[22][0])[1]] == ["integer"]  # TypeItem
    assert text(replicas, 2) == "int32"


def test_arrays_and_maps(definitions: dict[str, Fields]) -> None:
    pod_spec = named(read(definitions["io.k8s.api.core.v1.PodSpec"][25][0])[1])
    containers = pod_spec["containers"]
    (item,) = read(containers[23][0])[1]  # ItemsItem {repeated Schema = 1}
    assert text(read(item), 1) == "#/definitions/io.k8s.api.core.v1.Container"
    assert extensions(containers[31])["x-kubernetes-patch-merge-key"] == "name"

    labels = named(read(definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"][25][0])[1])["labels"]
    values = read(read(labels[21][0])[1][0])  # AdditionalPropertiesItem {Schema schema = 1}
    assert [bytes(t).decode() for t in read(values[22][0])[1]] == ["string"]


def test_patch_operation_lists_field_validation(document: Fields) -> None:
    """kubectl's v2 supportsQueryParam: a query parameter named fieldValidation on the kind's patch."""
    paths = named(read(document[8][0])[2])
    item = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    patch = read(item[8][0])
    assert extensions(patch[13])["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "kind": "Deployment",
        "version": "v1",
    }
    query_names, body = [], None
    for entry in patch[8]:
        parameter = read(read(entry)[1][0])  # ParametersItem.parameter
        if 1 in parameter:  # BodyParameter
            body = read(parameter[1][0])
        else:
            non_body = read(parameter[2][0])
            query_names.append(text(read(non_body[3][0]), 4))
    assert "fieldValidation" in query_names
    assert body is not None and text(body, 3) == "body" and body[4] == [1]
    assert text(read(body[5][0]), 1) == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"

    path_parameters = [read(read(read(entry)[1][0])[2][0]) for entry in item[9]]
    assert {text(read(p[4][0]), 4) for p in path_parameters if 4 in p} == {"name", "namespace"}
    responses = named(read(patch[9][0])[1])
    assert text(read(responses["200"][1][0]), 1) == "OK"


def test_encoded_once_and_unknown_keys_refused() -> None:
    assert openapi_v2_proto.v2_protobuf_document() is openapi_v2_proto.v2_protobuf_document()
    with pytest.raises(ValueError, match="discriminator"):
        openapi_v2_proto.encode_document({"swagger": "2.0", "definitions": {"X": {"discriminator": "kind"}}})
