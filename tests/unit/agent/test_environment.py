"""`$(VAR)` expansion as Kubernetes does it (third_party/forked/golang/expansion)."""

from __future__ import annotations

import pytest

from kubelite.agent.pods.environment import expand

VARS = {"A": "alpha", "B": "beta", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("$(A)", "alpha"),
        ("x$(A)y$(B)z", "xalphaybetaz"),
        ("$(EMPTY)-", "-"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),
        ("$$$(A)", "$alpha"),
        ("$$", "$"),
        ("$", "$"),
        ("a$", "a$"),
        ("$x$(A)", "$xalpha"),
        ("$(A", "$(A"),
        ("$()", "$()"),
        ("$(A)$(B)", "alphabeta"),
        ("no refs", "no refs"),
    ],
)
def test_expand(text: str, expanded: str) -> None:
    assert expand(text, VARS.get) == expanded
