"""Kubernetes protobuf request bodies, decoded into the JSON-shaped dicts the JSON path produces.

kubectl's imperative commands (`create namespace|configmap|secret|deployment|job|cronjob|service|quota ...`)
go through typed client-go clientsets, which send `application/vnd.kubernetes.protobuf` and never fall back
to JSON. Such a body is the magic "k8s\\x00" then a runtime.Unknown message: typeMeta {apiVersion, kind},
raw (the object's own message), contentEncoding, contentType.

The object's message is read against the kind's schema (kubelite.api.schema): the schema says what each
field is (struct, list, map, scalar, Time, Quantity, IntOrString, embedded object), the table in
kubelite.api.schema.protobuf_fields says which number it travels under. As in Go, a plain scalar's zero value
means "not set" and is left out, a pointer's is kept. Field numbers the table does not know, and known fields
the schema lacks, are collected (when set) as unknown field paths for the caller's fieldValidation to judge;
upstream drops them silently, as it has no strict protobuf decoding.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from kubelite.api.schema import dsl, kind_schema
from kubelite.api.schema.causes import join
from kubelite.api.schema.protobuf_fields import message_fields
from kubelite.apiserver import protowire
from kubelite.apiserver.protowire import FIXED32, FIXED64, LENGTH_DELIMITED, VARINT

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
_META_PREFIX = "io.k8s.apimachinery.pkg.apis.meta.v1."
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ABSENT = object()
_MAX_DEPTH = 64
_SPECIAL_SCALARS = frozenset({dsl.TIME, dsl.MICRO_TIME, dsl.QUANTITY, dsl.INT_OR_STRING})

Occurrences = list[tuple[int, int | bytes]]  # (wire type, value) of each record of one field number


class ProtobufError(ValueError):
    """The body is not a well-formed protobuf object."""


class UnsupportedKind(ProtobufError):
    """The body is a kind kubelite has no protobuf field numbers for."""

    def __init__(self, api_version: str, kind: str) -> None:
        super().__init__(f"{kind} ({api_version or 'no apiVersion'})")
        self.api_version = api_version
        self.kind = kind


@dataclass(frozen=True, slots=True)
class DecodedObject:
    obj: dict[str, Any]
    unknown_fields: list[str]


def decode(raw: bytes) -> DecodedObject:
    """A protobuf-encoded object, with apiVersion and kind taken from its envelope."""
    return _decode(raw, depth=0)


def _decode(raw: bytes, *, depth: int) -> DecodedObject:
    if not raw.startswith(MAGIC):
        raise ProtobufError('the body does not start with the protobuf prefix "k8s\\x00"')
    try:
        api_version, kind, body = _envelope(raw[len(MAGIC) :])
        schema = kind_definition(api_version, kind)
        reader = _Reader(depth)
        fields = reader.message(body, schema.name, schema, "")
    except protowire.WireError as exc:
        raise ProtobufError(f"malformed protobuf: {exc}") from exc
    return DecodedObject({"apiVersion": api_version, "kind": kind, **fields}, reader.unknown)


def kind_definition(api_version: str, kind: str) -> dsl.Struct:
    """The schema of a kind that has protobuf field numbers; meta kinds (DeleteOptions) in any group."""
    group, _, version = api_version.rpartition("/")
    schema = kind_schema(group, version, kind)
    if schema is None:
        generic = kind_schema("", "v1", kind)
        schema = generic if generic is not None and generic.name.startswith(_META_PREFIX) else None
    if schema is None or message_fields(schema.name) is None:
        raise UnsupportedKind(api_version, kind)
    return schema


def _envelope(data: bytes) -> tuple[str, str, bytes]:
    """runtime.Unknown: typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3,
    contentType = 4."""
    api_version = kind = encoding = content_type = ""
    body = b""
    for number, wire_type, value in protowire.records(data):
        if number == 1:
            for inner, inner_wire, inner_value in protowire.records(_bytes(wire_type, value, "typeMeta")):
                if inner == 1:
                    api_version = _text(inner_wire, inner_value, "typeMeta.apiVersion")
                elif inner == 2:
                    kind = _text(inner_wire, inner_value, "typeMeta.kind")
        elif number == 2:
            body = _bytes(wire_type, value, "raw")
        elif number == 3:
            encoding = _text(wire_type, value, "contentEncoding")
        elif number == 4:
            content_type = _text(wire_type, value, "contentType")
    if not kind:
        raise ProtobufError("Object 'Kind' is missing from the protobuf envelope")
    if encoding:
        raise ProtobufError(f"unsupported contentEncoding {encoding!r} in the protobuf envelope")
    if content_type not in ("", MEDIA_TYPE):
        raise ProtobufError(f"unsupported contentType {content_type!r} in the protobuf envelope")
    return api_version, kind, body


class _Reader:
    """Reads messages against schema nodes, noting unknown fields on the way."""

    def __init__(self, depth: int) -> None:
        self.unknown: list[str] = []
        self.depth = depth  # messages open around the current one, embedded objects' included

    def message(self, data: bytes, definition: str, schema: dsl.Struct, path: str) -> dict[str, Any]:
        if self.depth >= _MAX_DEPTH:  # only objects nested in RawExtensions can go this deep
            raise ProtobufError(f"{path or 'body'}: objects nested more than {_MAX_DEPTH} deep")
        self.depth += 1
        out: dict[str, Any] = {}
        self._fill(out, data, definition, schema, path)
        self.depth -= 1
        return out

    def _fill(self, out: dict[str, Any], data: bytes, definition: str, schema: dsl.Struct, path: str) -> None:
        numbers = message_fields(definition)
        if numbers is None:
            raise ProtobufError(f"{path or 'body'}: no protobuf field numbers for {definition}")
        for number, occurrences in _grouped(data).items():
            field = numbers.get(number)
            if field is not None and field.embedded:  # a Go embedded struct: its fields belong to this object
                self._fill(out, _merged(occurrences, path), field.name, schema, path)
            elif field is None or (node := schema.fields.get(field.name)) is None:
                # gogo sends every plain field, set or not: a newer client's unset field is no news
                if any(value not in (0, b"") for _wire_type, value in occurrences):
                    self.unknown.append(join(path, field.name if field else f"(protobuf field {number})"))
            else:
                value = self._field(node, occurrences, join(path, field.name), presence=field.presence)
                if value is not _ABSENT:
                    out[field.name] = value

    def _field(self, node: dsl.Node, occurrences: Occurrences, path: str, *, presence: bool) -> Any:
        if isinstance(node, dsl.Array):
            return self._array(node.items, occurrences, path)
        if isinstance(node, dsl.MapOf):
            return self._map(node.values, occurrences, path)
        if not isinstance(node.resolved(), dsl.Scalar) or _is_special(node):
            # A message field sent more than once is the merge of its parts, as protobuf defines.
            return self._item(node, LENGTH_DELIMITED, _merged(occurrences, path), path)
        wire_type, value = occurrences[-1]  # a repeated scalar: the last one wins
        result = self._item(node, wire_type, value, path)
        return _ABSENT if not presence and result in ("", 0, False) else result

    def _array(self, items: dsl.Node, occurrences: Occurrences, path: str) -> list[Any]:
        values: list[Any] = []
        packable = items if isinstance(items, dsl.Scalar) and items.type != "string" else None
        for wire_type, value in occurrences:
            if packable is not None and isinstance(value, bytes):
                for element_wire, element in _unpacked(packable, value):
                    values.append(self._item(items, element_wire, element, f"{path}[{len(values)}]"))
            else:
                values.append(self._item(items, wire_type, value, f"{path}[{len(values)}]"))
        return values

    def _map(self, values: dsl.Node, occurrences: Occurrences, path: str) -> dict[str, Any]:
        """A map travels as repeated entry messages {key = 1, value = 2}; a missing value means zero."""
        out: dict[str, Any] = {}
        for wire_type, entry in occurrences:
            key = ""
            value: tuple[int, int | bytes] = _zero(values)
            for number, field_wire, field_value in protowire.records(_bytes(wire_type, entry, path)):
                if number == 1:
                    key = _text(field_wire, field_value, path)
                elif number == 2:
                    value = (field_wire, field_value)
            out[key] = self._item(values, *value, join(path, key))
        return out

    def _item(self, node: dsl.Node, wire_type: int, value: int | bytes, path: str) -> Any:
        """One value of a field (one element of a list)."""
        if isinstance(node, dsl.Ref):
            if node.target in (dsl.TIME, dsl.MICRO_TIME):
                return _timestamp(_bytes(wire_type, value, path), path, micro=node.target == dsl.MICRO_TIME)
            if node.target == dsl.QUANTITY:
                return _quantity(_bytes(wire_type, value, path), path)
            if node.target == dsl.INT_OR_STRING:
                return _int_or_string(_bytes(wire_type, value, path), path)
        resolved = node.resolved()
        if isinstance(resolved, dsl.Struct):
            return self.message(_bytes(wire_type, value, path), resolved.name, resolved, path)
        if isinstance(resolved, dsl.Free):
            return self._embedded(_bytes(wire_type, value, path), path)
        if isinstance(resolved, dsl.Scalar):
            return _scalar(resolved, wire_type, value, path)
        raise ProtobufError(f"{path}: kubelite cannot read a nested {type(resolved).__name__} from protobuf")

    def _embedded(self, data: bytes, path: str) -> Any:
        """RawExtension and FieldsV1: bytes = 1 holding JSON (or, for RawExtension, a protobuf object)."""
        raw = b""
        for number, wire_type, value in protowire.records(data):
            if number == 1:
                raw = _bytes(wire_type, value, path)
        if not raw:
            return None
        if raw.startswith(MAGIC):
            nested = _decode(raw, depth=self.depth)
            self.unknown.extend(join(path, field) for field in nested.unknown_fields)
            return nested.obj
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ProtobufError(f"{path}: the embedded object is neither JSON nor protobuf") from exc


def _grouped(data: bytes) -> dict[int, Occurrences]:
    grouped: dict[int, Occurrences] = {}
    for number, wire_type, value in protowire.records(data):
        grouped.setdefault(number, []).append((wire_type, value))
    return grouped


def _merged(occurrences: Occurrences, path: str) -> bytes:
    return b"".join(_bytes(wire_type, value, path) for wire_type, value in occurrences)


def _is_special(node: dsl.Node) -> bool:
    """Time, Quantity and IntOrString are strings in JSON but messages on the wire."""
    return isinstance(node, dsl.Ref) and node.target in _SPECIAL_SCALARS


def _unpacked(items: dsl.Scalar, data: bytes) -> list[tuple[int, int]]:
    if items.type == "number":
        return [(FIXED64, value) for value in protowire.packed_fixed(data, 8)]
    return [(VARINT, value) for value in protowire.packed_varints(data)]


def _zero(node: dsl.Node) -> tuple[int, int | bytes]:
    resolved = node.resolved()
    if isinstance(resolved, dsl.Scalar) and not _is_special(node):
        if resolved.type in ("integer", "boolean"):
            return VARINT, 0
        if resolved.type == "number":
            return FIXED64, 0
    return LENGTH_DELIMITED, b""


def _scalar(node: dsl.Scalar, wire_type: int, value: int | bytes, path: str) -> Any:
    if node.type == "string":
        data = _bytes(wire_type, value, path)
        return base64.b64encode(data).decode("ascii") if node.format == "byte" else _utf8(data, path)
    if node.type in ("integer", "boolean"):
        if wire_type != VARINT or not isinstance(value, int):
            raise ProtobufError(f"{path}: expected a varint, got wire type {wire_type}")
        return protowire.signed64(value) if node.type == "integer" else value != 0
    if wire_type not in (FIXED64, FIXED32) or not isinstance(value, int):
        raise ProtobufError(f"{path}: expected a fixed-width number, got wire type {wire_type}")
    return protowire.as_double(value, wire_type)


def _timestamp(data: bytes, path: str, *, micro: bool) -> str | None:
    """metav1.Time / MicroTime {seconds = 1, nanos = 2}; an empty message is the zero time (JSON null)."""
    if not data:
        return None
    seconds, nanos = _varints(data, path, 2)
    if not 0 <= nanos < 1_000_000_000:
        raise ProtobufError(f"{path}: nanos {nanos} out of range")
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError as exc:
        raise ProtobufError(f"{path}: timestamp {seconds} out of range") from exc
    naive = moment.replace(tzinfo=None)
    if micro:  # Time keeps whole seconds only, as upstream's decoder does
        return naive.replace(microsecond=nanos // 1000).isoformat(timespec="microseconds") + "Z"
    return naive.isoformat(timespec="seconds") + "Z"


def _quantity(data: bytes, path: str) -> str:
    """resource.Quantity {string = 1}; an empty message is zero."""
    text = ""
    for number, wire_type, value in protowire.records(data):
        if number == 1:
            text = _text(wire_type, value, path)
    return text or "0"


def _int_or_string(data: bytes, path: str) -> int | str:
    """intstr.IntOrString {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}."""
    type_, int_val, str_val = 0, 0, ""
    for number, wire_type, value in protowire.records(data):
        if number in (1, 2):
            if wire_type != VARINT or not isinstance(value, int):
                raise ProtobufError(f"{path}: expected a varint, got wire type {wire_type}")
            if number == 1:
                type_ = value
            else:
                int_val = protowire.signed64(value)
        elif number == 3:
            str_val = _text(wire_type, value, path)
    if type_ not in (0, 1):
        raise ProtobufError(f"{path}: IntOrString type {type_} is neither 0 (int) nor 1 (string)")
    return int_val if type_ == 0 else str_val


def _varints(data: bytes, path: str, count: int) -> list[int]:
    """Fields 1..count of a message made of signed varints, 0 when absent."""
    values = [0] * count
    for number, wire_type, value in protowire.records(data):
        if 1 <= number <= count:
            if wire_type != VARINT or not isinstance(value, int):
                raise ProtobufError(f"{path}: expected a varint, got wire type {wire_type}")
            values[number - 1] = protowire.signed64(value)
    return values


def _bytes(wire_type: int, value: int | bytes, path: str) -> bytes:
    if wire_type != LENGTH_DELIMITED or not isinstance(value, bytes):
        raise ProtobufError(f"{path or 'body'}: expected a length-delimited field, got wire type {wire_type}")
    return value


def _text(wire_type: int, value: int | bytes, path: str) -> str:
    return _utf8(_bytes(wire_type, value, path), path)


def _utf8(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtobufError(f"{path or 'body'}: a string that is not valid UTF-8") from exc
