"""A tiny protobuf encoder for tests: builds Kubernetes protobuf bodies field by field, as gogo-protobuf does.

Deliberately independent of kubelite's decoder, so tests compare it with a second implementation.
"""

from __future__ import annotations

MAGIC = b"k8s\x00"


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32/int64 travel as 64-bit two's complement
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def number(field: int, value: int) -> bytes:
    """A varint field (int32, int64, bool, enum)."""
    return varint(field << 3) + varint(value)


def delimited(field: int, data: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(data)) + data


def string(field: int, text: str) -> bytes:
    return delimited(field, text.encode())


def message(field: int, *parts: bytes) -> bytes:
    return delimited(field, b"".join(parts))


def strings(field: int, *texts: str) -> bytes:
    """A repeated string field."""
    return b"".join(string(field, text) for text in texts)


def string_map(field: int, entries: dict[str, str]) -> bytes:
    """map<string, string>: repeated entry messages {key = 1, value = 2}."""
    return b"".join(message(field, string(1, key), string(2, value)) for key, value in entries.items())


def quantity(field: int, text: str) -> bytes:
    return message(field, string(1, text))


def quantity_map(field: int, entries: dict[str, str]) -> bytes:
    """A ResourceList: map<string, Quantity>."""
    return b"".join(message(field, string(1, key), quantity(2, value)) for key, value in entries.items())


def int_or_string(field: int, value: int | str) -> bytes:
    if isinstance(value, int):
        return message(field, number(1, 0), number(2, value), string(3, ""))
    return message(field, number(1, 1), number(2, 0), string(3, value))


def timestamp(field: int, seconds: int, nanos: int = 0) -> bytes:
    """metav1.Time / MicroTime {seconds = 1, nanos = 2}."""
    return message(field, number(1, seconds), number(2, nanos))


def object_meta(name: str = "", *, namespace: str = "", **maps: dict[str, str]) -> bytes:
    """ObjectMeta as gogo sends it: plain strings present even when empty, an empty creationTimestamp."""
    parts = [
        string(1, name),
        string(2, ""),
        string(3, namespace),
        string(4, ""),
        string(5, ""),
        string(6, ""),
    ]
    parts += [number(7, 0), message(8)]
    if "labels" in maps:
        parts.append(string_map(11, maps["labels"]))
    if "annotations" in maps:
        parts.append(string_map(12, maps["annotations"]))
    return b"".join(parts)


def envelope(api_version: str, kind: str, body: bytes, *, content_encoding: str = "") -> bytes:
    """The magic, then runtime.Unknown {typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4}."""
    type_meta = message(1, string(1, api_version), string(2, kind))
    return MAGIC + type_meta + delimited(2, body) + string(3, content_encoding) + string(4, "")
