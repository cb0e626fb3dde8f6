"""Continue tokens: opaque, round-trip, and refuse anything they did not make."""

from __future__ import annotations

import base64

import pytest

from kubelite.apiserver import paging


def test_round_trip() -> None:
    token = paging.ContinueToken(revision=42, start_after="default/web-7")
    text = paging.encode(token)
    assert "default" not in text  # opaque to clients
    assert paging.decode(text) == token


@pytest.mark.parametrize(
    "text",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(b'{"v":"other","rv":1,"start":"a"}').decode(),
        base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":0,"start":"a"}').decode(),
        base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":5,"start":"/registry/secrets/x"}').decode(),
        base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":5,"start":"../secrets"}').decode(),
    ],
)
def test_rejects_foreign_tokens(text: str) -> None:
    with pytest.raises(paging.InvalidToken):
        paging.decode(text)
