"""Command line: parses flags (k3s's names where k3s has the same setting) and calls run(config)."""
