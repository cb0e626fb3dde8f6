"""SPDY/3.1 framing and header compression, checked against a frame Go's spdystream produces."""

from __future__ import annotations

import zlib

import pytest

from kubelite.agent.server import spdy

# SYN_STREAM, stream 1, headers {"streamtype": "stdout"}, compressed by moby/spdystream with the dictionary.
_GO_SYN_STREAM = bytes.fromhex(
    "80030001 0000002b 00000001 00000000 0000 78f9e3c6a7c2"
    " 62606060 04a7b392 a2d4c45c 6851c256 5c92925f 5a020000 00ffff".replace(" ", "")
)


def test_the_dictionary_is_the_one_of_spdy3() -> None:
    assert len(spdy.DICTIONARY) == 1423 and zlib.adler32(spdy.DICTIONARY) == 0xE3C6A7C2
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")


def test_a_go_client_syn_stream_decodes() -> None:
    (frame,) = spdy.Codec().feed(_GO_SYN_STREAM)
    assert (frame.kind, frame.stream_id, frame.headers, frame.fin) == (
        spdy.SYN_STREAM,
        1,
        {"streamtype": "stdout"},
        False,
    )


def test_frames_split_anywhere_and_headers_round_trip_across_a_shared_context() -> None:
    client, server = spdy.Codec(), spdy.Codec()
    headers = {"streamtype": "data", "port": "8080", "requestid": "0"}
    wire = (
        client.syn_stream(1, {**headers, "streamtype": "error"})
        + client.syn_stream(3, headers)
        + spdy.data(3, b"hello", fin=True)
        + spdy.ping(7)
        + spdy.rst_stream(1, spdy.CANCEL)
        + spdy.goaway(3)
    )
    frames = []
    for i in range(0, len(wire), 5):  # five bytes at a time, as WebSocket messages may carry them
        frames += server.feed(wire[i : i + 5])
    assert [f.kind for f in frames] == [
        spdy.SYN_STREAM,
        spdy.SYN_STREAM,
        0,
        spdy.PING,
        spdy.RST_STREAM,
        spdy.GOAWAY,
    ]
    assert frames[0].headers["streamtype"] == "error" and frames[1].headers == headers
    assert (frames[2].stream_id, frames[2].data, frames[2].fin) == (3, b"hello", True)
    assert frames[3].data == b"\x00\x00\x00\x07"
    assert (frames[4].stream_id, frames[4].status) == (1, spdy.CANCEL)
    assert frames[5].stream_id == 3


def test_syn_reply_decodes_on_the_client_side() -> None:
    server, client = spdy.Codec(), spdy.Codec()
    (reply,) = client.feed(server.syn_reply(5, {"status": "ok"}, fin=True))
    assert (reply.kind, reply.stream_id, reply.headers, reply.fin) == (
        spdy.SYN_REPLY,
        5,
        {"status": "ok"},
        True,
    )


def test_garbage_is_a_protocol_error() -> None:
    with pytest.raises(spdy.ProtocolError):
        spdy.Codec().feed(spdy.control(spdy.SYN_STREAM, b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00junk"))
    with pytest.raises(spdy.ProtocolError):
        spdy.Codec().feed(b"\x80\x02\x00\x01\x00\x00\x00\x00")  # SPDY/2
