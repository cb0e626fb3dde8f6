"""Patch semantics of the API: JSON merge patch, strategic merge patch and server-side apply."""
