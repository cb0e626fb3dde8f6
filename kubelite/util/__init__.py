"""Small helpers every component may use (no kubelite imports of its own)."""
