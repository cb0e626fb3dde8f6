"""The protobuf wire format at its lowest level: varints and (field number, wire type, value) records.

Kubernetes messages are proto2 with no groups, so a message is a flat run of records; what they mean is
left to the caller (kubelite.apiserver.protobuf), which knows the schema. Malformed input raises
WireError, never IndexError or a hang.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT = 0
FIXED64 = 1
LENGTH_DELIMITED = 2
FIXED32 = 5

_MAX_VARINT_BYTES = 10


class WireError(ValueError):
    """The bytes are not well-formed protobuf."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The unsigned varint at `pos` and the position after it."""
    result = 0
    for shift_index in range(_MAX_VARINT_BYTES):
        if pos >= len(data):
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << (7 * shift_index)
        if not byte & 0x80:
            return result, pos
    raise WireError("varint longer than 10 bytes")


def signed64(value: int) -> int:
    """A varint read as int64/int32: negative numbers travel as 64-bit two's complement."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def records(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Each record of a message: field number, wire type, and an int (varint, fixed) or bytes (delimited)."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: int | bytes
        if wire_type == VARINT:
            value, pos = read_varint(data, pos)
        elif wire_type == LENGTH_DELIMITED:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise WireError(f"field {number} runs past the end of its message")
            value, pos = data[pos : pos + length], pos + length
        elif wire_type in (FIXED64, FIXED32):
            size = 8 if wire_type == FIXED64 else 4
            if pos + size > len(data):
                raise WireError(f"field {number} runs past the end of its message")
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        else:
            raise WireError(f"field {number} has unsupported wire type {wire_type}")
        yield number, wire_type, value


def packed_varints(data: bytes) -> list[int]:
    """The values of a packed repeated varint field."""
    values: list[int] = []
    pos = 0
    while pos < len(data):
        value, pos = read_varint(data, pos)
        values.append(value)
    return values


def packed_fixed(data: bytes, size: int) -> list[int]:
    """The values of a packed repeated fixed64 (size 8) or fixed32 (size 4) field."""
    if len(data) % size:
        raise WireError("packed fixed-width field with a partial element")
    return [int.from_bytes(data[i : i + size], "little") for i in range(0, len(data), size)]


def as_double(value: int, wire_type: int) -> float:
    """A fixed64 double or fixed32 float."""
    if wire_type == FIXED64:
        return float(struct.unpack("<d", value.to_bytes(8, "little"))[0])
    return float(struct.unpack("<f", value.to_bytes(4, "little"))[0])
