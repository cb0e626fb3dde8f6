"""The response cache forgets by namespace: a change in one keeps the others' answers."""

from __future__ import annotations

from kubelite.dns.cache import ResponseCache


def test_forgetting_one_namespace_keeps_the_others() -> None:
    cache = ResponseCache(100)
    cache.put((False, b"a"), b"in-a", "a")
    cache.put((False, b"b"), b"in-b", "b")
    cache.put((True, b"a"), b"in-a-tcp", "a")
    cache.put((False, b"ptr"), b"anywhere", None)
    cache.forget("a")
    assert cache.get((False, b"a")) is None and cache.get((True, b"a")) is None
    assert cache.get((False, b"ptr")) is None  # filed under no namespace: forgotten on any change
    assert cache.get((False, b"b")) == b"in-b"
    cache.forget(None)
    assert len(cache) == 0


def test_size_bounds_and_zero_disables() -> None:
    cache = ResponseCache(2)
    for i in range(3):
        cache.put((False, bytes([i])), b"x", "ns")
    assert len(cache) == 1  # full: started over
    off = ResponseCache(0)
    off.put((False, b"q"), b"x", "ns")
    assert off.get((False, b"q")) is None
