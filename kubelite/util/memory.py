"""Give freed memory back to the system, and keep the garbage collector's pauses small in a server.

CPython frees objects into glibc's heap, which keeps the pages: after a burst (a node starting and stopping a
hundred pods) a long-lived process stays at its peak. Trimming the heap now and then returns what is free.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc

_LIBC_NAME = ctypes.util.find_library("c")
_LIBC = ctypes.CDLL(_LIBC_NAME) if _LIBC_NAME else None


def trim() -> None:
    gc.collect()
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):  # glibc only; other libcs return memory anyway
        _LIBC.malloc_trim(0)


async def trim_every(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        trim()


def settle_heap(young_threshold: int = 50_000) -> None:
    """Once a server has started: leave the start-up heap out of every later collection, and collect less
    often. Reference counting frees almost all of a server's garbage; each collection instead walks objects
    that live as long as the process (caches of stored objects), and at the default thresholds (700, 10, 10)
    that took a sixth of the API server's CPU under load."""
    gc.freeze()
    gc.set_threshold(young_threshold, 20, 100)
