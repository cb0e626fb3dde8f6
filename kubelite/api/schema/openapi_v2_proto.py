"""The OpenAPI v2 document in gnostic's protobuf encoding (message openapi.v2.Document).

kubectl falls back to /openapi/v2 for every kind its v3 documents lack and asks for protobuf only; JSON
there makes it fail with "proto: cannot parse invalid wire-format data". So the JSON document built in
`openapi.v2_document()` is re-encoded here, field by field, from a small table of the gnostic messages it
uses. Every JSON key must have a place in the table: an unknown one raises instead of being dropped, so a
new schema feature cannot silently vanish from what kubectl validates against.

Vendor extensions (x-kubernetes-*) travel as NamedAny entries whose value is YAML text, as upstream sends
them; kubectl reads x-kubernetes-group-version-kind that way to find the definition of a kind.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Callable
from typing import Any

import orjson
import yaml

from kubelite.api.schema import openapi

# A field encoder turns one JSON value into the complete bytes of its field (tag included).
FieldEncoder = Callable[[Any], bytes]
# A message encoder turns a JSON value into the bytes of a message body (no tag, no length).
MessageEncoder = Callable[[Any], bytes]

_VARINT, _FIXED64, _DELIMITED = 0, 1, 2


@functools.cache
def v2_protobuf_document() -> openapi.Document:
    """The v2 document as a serialized openapi.v2.Document, encoded once per process."""
    body = encode_document(orjson.loads(openapi.v2_document().body))
    return openapi.Document(body, hashlib.sha512(body).hexdigest().upper())


def encode_document(document: dict[str, Any]) -> bytes:
    return _DOCUMENT(document)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 travel as 64-bit two's complement
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _delimited(number: int, payload: bytes) -> bytes:
    return _tag(number, _DELIMITED) + _varint(len(payload)) + payload


def string(number: int) -> FieldEncoder:
    return lambda text: _delimited(number, str(text).encode())


def strings(number: int) -> FieldEncoder:
    """A repeated string; a single JSON string counts as a list of one."""
    encode = string(number)
    return lambda texts: b"".join(encode(t) for t in ([texts] if isinstance(texts, str) else texts))


def boolean(number: int) -> FieldEncoder:
    # proto3 leaves false out: it is the default.
    return lambda flag: _tag(number, _VARINT) + b"\x01" if flag else b""


def int64(number: int) -> FieldEncoder:
    return lambda value: _tag(number, _VARINT) + _varint(int(value))


def double(number: int) -> FieldEncoder:
    return lambda value: _tag(number, _FIXED64) + struct.pack("<d", float(value))


def sub(number: int, encode: MessageEncoder) -> FieldEncoder:
    return lambda value: _delimited(number, encode(value))


def each(number: int, encode: MessageEncoder) -> FieldEncoder:
    """A repeated message, one per list element."""
    return lambda values: b"".join(_delimited(number, encode(v)) for v in values)


def named(number: int, encode: MessageEncoder) -> FieldEncoder:
    """A JSON object as gnostic's ordered Named* pairs {name = 1, value = 2}."""
    return lambda mapping: b"".join(
        _delimited(number, _delimited(1, key.encode()) + _delimited(2, encode(value)))
        for key, value in mapping.items()
    )


def _any(value: Any) -> bytes:
    """openapi.v2.Any {yaml = 2}: arbitrary JSON as YAML text."""
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=True)
    return _delimited(2, text.removesuffix("...\n").encode())


def message(fields: dict[str, FieldEncoder], *, extensions: int | None = None) -> MessageEncoder:
    """An encoder of one gnostic message from its JSON form: `fields` by JSON key, listed in field number
    order (the order they are written in, as Go writes them), and the field number of its repeated NamedAny
    vendor_extension for x- keys (None when it has none)."""
    vendor_extensions = named(extensions, _any) if extensions else None

    def encode(value: dict[str, Any]) -> bytes:
        own = {key: item for key, item in value.items() if vendor_extensions and key.startswith("x-")}
        unknown = value.keys() - fields.keys() - own.keys()
        if unknown:
            raise ValueError(f"OpenAPI v2 protobuf: no field for {sorted(unknown)} (keys: {sorted(value)})")
        out = b"".join(encode_field(value[key]) for key, encode_field in fields.items() if key in value)
        return out + vendor_extensions(own) if vendor_extensions else out

    return encode


def _schema(value: dict[str, Any]) -> bytes:
    return _SCHEMA(value)  # late-bound: Schema nests itself


def _items(value: dict[str, Any] | list[dict[str, Any]]) -> bytes:
    # ItemsItem {repeated Schema schema = 1}: v2 allows one schema or a list (tuple validation).
    return each(1, _schema)(value if isinstance(value, list) else [value])


def _additional_properties(value: bool | dict[str, Any]) -> bytes:
    # AdditionalPropertiesItem: oneof {Schema schema = 1; bool boolean = 2}
    if isinstance(value, bool):
        return _tag(2, _VARINT) + _varint(int(value))
    return _delimited(1, _schema(value))


_SCHEMA = message(
    {
        "$ref": string(1),
        "format": string(2),
        "title": string(3),
        "description": string(4),
        "default": sub(5, _any),
        "multipleOf": double(6),
        "maximum": double(7),
        "exclusiveMaximum": boolean(8),
        "minimum": double(9),
        "exclusiveMinimum": boolean(10),
        "maxLength": int64(11),
        "minLength": int64(12),
        "pattern": string(13),
        "maxItems": int64(14),
        "minItems": int64(15),
        "uniqueItems": boolean(16),
        "maxProperties": int64(17),
        "minProperties": int64(18),
        "required": strings(19),
        "enum": each(20, _any),
        "additionalProperties": sub(21, _additional_properties),
        "type": sub(22, strings(1)),  # TypeItem {repeated string value = 1}
        "items": sub(23, _items),
        "allOf": each(24, _schema),
        "properties": sub(25, named(1, _schema)),  # Properties {repeated NamedSchema = 1}
        "readOnly": boolean(27),
        "example": sub(30, _any),
    },
    extensions=31,
)

# Path and header parameters number their fields so; query and formData ones, where allowEmptyValue takes
# 5, number the rest one higher.
_PRIMITIVE_FIELDS: dict[str, tuple[int, Callable[[int], FieldEncoder]]] = {
    "type": (5, string),
    "format": (6, string),
    "collectionFormat": (8, string),
    "default": (9, lambda number: sub(number, _any)),
    "pattern": (16, string),
    "uniqueItems": (19, boolean),
    "enum": (20, lambda number: each(number, _any)),
}


def _sub_schema(*, allow_empty_value: bool) -> MessageEncoder:
    """QueryParameterSubSchema and FormData... (allow_empty_value), or Path.../Header..."""
    shift = int(allow_empty_value)
    fields = {"required": boolean(1), "in": string(2), "description": string(3), "name": string(4)}
    if allow_empty_value:
        fields["allowEmptyValue"] = boolean(5)
    fields.update({key: kind(number + shift) for key, (number, kind) in _PRIMITIVE_FIELDS.items()})
    return message(fields, extensions=22 + shift)


_BODY_PARAMETER = message(
    {
        "description": string(1),
        "name": string(2),
        "in": string(3),
        "required": boolean(4),
        "schema": sub(5, _schema),
    },
    extensions=6,
)
_JSON_REFERENCE = message({"$ref": string(1), "description": string(2)})
# NonBodyParameter: oneof {header = 1, formData = 2, query = 3, path = 4}
_NON_BODY = {
    "header": (1, _sub_schema(allow_empty_value=False)),
    "formData": (2, _sub_schema(allow_empty_value=True)),
    "query": (3, _sub_schema(allow_empty_value=True)),
    "path": (4, _sub_schema(allow_empty_value=False)),
}


def _parameters_item(value: dict[str, Any]) -> bytes:
    """ParametersItem {Parameter parameter = 1 | JsonReference = 2}; Parameter {body = 1 | non-body = 2}."""
    if "$ref" in value:
        return _delimited(2, _JSON_REFERENCE(value))
    if value.get("in") == "body":
        return _delimited(1, _delimited(1, _BODY_PARAMETER(value)))
    number, encode = _NON_BODY[value["in"]]
    return _delimited(1, _delimited(2, _delimited(number, encode(value))))


def named_and_extensions(*, entries: int, extensions: int, encode: MessageEncoder) -> MessageEncoder:
    """A message that is a JSON object of named entries beside its own x- vendor extensions (Paths,
    Responses)."""
    encode_entries, encode_extensions = named(entries, encode), named(extensions, _any)

    def encode_message(value: dict[str, Any]) -> bytes:
        own = {key: item for key, item in value.items() if key.startswith("x-")}
        entries_ = {key: item for key, item in value.items() if key not in own}
        encoded = {entries: encode_entries(entries_), extensions: encode_extensions(own)}
        return b"".join(encoded[number] for number in sorted(encoded))

    return encode_message


_RESPONSE = message(
    # SchemaItem {Schema schema = 1 | FileSchema = 2}: kubelite's responses are never files.
    {"description": string(1), "schema": sub(2, lambda schema: _delimited(1, _schema(schema)))},
    extensions=5,
)
# Responses {repeated NamedResponseValue response_code = 1}; ResponseValue {Response response = 1 | ref}
_RESPONSES = named_and_extensions(
    entries=1, extensions=2, encode=lambda response: _delimited(1, _RESPONSE(response))
)


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")  # PathItem fields 2..8
_OPERATION = message(
    {
        "tags": strings(1),
        "summary": string(2),
        "description": string(3),
        "operationId": string(5),
        "produces": strings(6),
        "consumes": strings(7),
        "parameters": each(8, _parameters_item),
        "responses": sub(9, _RESPONSES),
        "schemes": strings(10),
        "deprecated": boolean(11),
    },
    extensions=13,
)
_PATH_ITEM = message(
    {
        "$ref": string(1),
        **{method: sub(number, _OPERATION) for number, method in enumerate(_METHODS, start=2)},
        "parameters": each(9, _parameters_item),
    },
    extensions=10,
)
_DOCUMENT = message(
    {
        "swagger": string(1),
        "info": sub(
            2, message({"title": string(1), "version": string(2), "description": string(3)}, extensions=7)
        ),
        "host": string(3),
        "basePath": string(4),
        "schemes": strings(5),
        "consumes": strings(6),
        "produces": strings(7),
        "paths": sub(8, named_and_extensions(entries=2, extensions=1, encode=_PATH_ITEM)),
        "definitions": sub(9, named(1, _schema)),  # Definitions {repeated NamedSchema = 1}
    },
    extensions=16,
)
