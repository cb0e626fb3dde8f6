"""SPDY/3.1 framing, as kubectl's port-forward speaks it (inside WebSocket binary messages).

Only what a port-forward server needs: parse the frames a client sends, build SYN_REPLY, DATA, RST_STREAM,
PING and GOAWAY. Header blocks are zlib streams preset with the SPDY/3 dictionary (draft 3, 2.6.10.1); each
direction keeps one compression context for the whole connection.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

_WORDS = [
    *(
        "options head post put delete trace accept accept-charset accept-encoding accept-language "
        "accept-ranges age allow authorization cache-control connection content-base "
        "content-encoding content-language content-length content-location content-md5 "
        "content-range content-type date etag expect expires from host if-match if-modified-since "
        "if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
        "proxy-authenticate proxy-authorization range referer retry-after server te trailer "
        "transfer-encoding upgrade user-agent vary via warning www-authenticate method get status"
    ).split(),
    *("200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"),
]
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
# RST_STREAM status codes
PROTOCOL_ERROR, REFUSED_STREAM, CANCEL, INTERNAL_ERROR = 1, 3, 5, 6


class ProtocolError(Exception):
    pass


@dataclass
class Frame:
    """A control frame (`kind` one of the constants) or a data frame (`kind` 0)."""

    kind: int
    flags: int
    stream_id: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes = b""  # DATA payload; for control frames without headers, the raw payload
    status: int = 0  # RST_STREAM / GOAWAY status

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


def _encode_headers(headers: dict[str, str]) -> bytes:
    out = [struct.pack(">I", len(headers))]
    for name, value in headers.items():
        n, v = name.lower().encode(), value.encode()
        out += [struct.pack(">I", len(n)), n, struct.pack(">I", len(v)), v]
    return b"".join(out)


def _decode_headers(block: bytes) -> dict[str, str]:
    try:
        (count,), pos, headers = struct.unpack_from(">I", block), 4, {}
        for _ in range(count):
            (n,) = struct.unpack_from(">I", block, pos)
            name = block[pos + 4 : pos + 4 + n].decode()
            pos += 4 + n
            (v,) = struct.unpack_from(">I", block, pos)
            headers[name] = block[pos + 4 : pos + 4 + v].decode()
            pos += 4 + v
    except (struct.error, UnicodeDecodeError) as exc:
        raise ProtocolError(f"bad header block: {exc}") from exc
    return headers


def control(kind: int, payload: bytes, flags: int = 0) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload


def data(stream_id: int, payload: bytes, *, fin: bool = False) -> bytes:
    return (
        struct.pack(">II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(payload)) + payload
    )


def rst_stream(stream_id: int, status: int) -> bytes:
    return control(RST_STREAM, struct.pack(">II", stream_id, status))


def ping(ping_id: int) -> bytes:
    return control(PING, struct.pack(">I", ping_id))


def goaway(last_stream_id: int, status: int = 0) -> bytes:
    return control(GOAWAY, struct.pack(">II", last_stream_id, status))


class Codec:
    """One side of a SPDY session: feed() received bytes, get whole frames; build header frames."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zdict=DICTIONARY)

    def compress(self, headers: dict[str, str]) -> bytes:
        return self._deflate.compress(_encode_headers(headers)) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def decompress(self, block: bytes) -> dict[str, str]:
        try:
            return _decode_headers(self._inflate.decompress(block))
        except zlib.error as exc:
            raise ProtocolError(f"bad header compression: {exc}") from exc

    def syn_stream(self, stream_id: int, headers: dict[str, str], *, fin: bool = False) -> bytes:
        payload = struct.pack(">IIH", stream_id, 0, 0) + self.compress(headers)
        return control(SYN_STREAM, payload, FLAG_FIN if fin else 0)

    def syn_reply(self, stream_id: int, headers: dict[str, str], *, fin: bool = False) -> bytes:
        return control(
            SYN_REPLY, struct.pack(">I", stream_id) + self.compress(headers), FLAG_FIN if fin else 0
        )

    def feed(self, chunk: bytes) -> list[Frame]:
        self._buffer += chunk
        frames = []
        while len(self._buffer) >= 8:
            first, second = struct.unpack_from(">II", self._buffer)
            length = second & 0xFFFFFF
            if len(self._buffer) < 8 + length:
                break
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            frames.append(self._frame(first, second >> 24, payload))
        return frames

    def _frame(self, first: int, flags: int, payload: bytes) -> Frame:
        if not first & 0x80000000:
            return Frame(0, flags, first & 0x7FFFFFFF, data=payload)
        version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"unsupported SPDY version {version}")
        try:
            if kind == SYN_STREAM:
                return Frame(
                    kind,
                    flags,
                    struct.unpack_from(">I", payload)[0] & 0x7FFFFFFF,
                    self.decompress(payload[10:]),
                )
            if kind in (SYN_REPLY, HEADERS):
                return Frame(
                    kind,
                    flags,
                    struct.unpack_from(">I", payload)[0] & 0x7FFFFFFF,
                    self.decompress(payload[4:]),
                )
            if kind in (RST_STREAM, GOAWAY):
                stream_id, status = struct.unpack_from(">II", payload)
                return Frame(kind, flags, stream_id & 0x7FFFFFFF, status=status)
        except struct.error as exc:
            raise ProtocolError(f"short control frame {kind}") from exc
        return Frame(kind, flags, data=payload)  # PING, SETTINGS, WINDOW_UPDATE, NOOP: raw payload
