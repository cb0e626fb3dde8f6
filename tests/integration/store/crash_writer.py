"""The child process of test_crash.py: writes to a SQLite store as fast as it can until it is killed.

Usage: crash_writer.py PATH PREFIX WRITERS. Prints "ready", then one line "WRITER INDEX REVISION" per
acknowledged write, flushed before the next write starts, so every printed write must survive kill -9.
Writer n performs, for j = 0, 1, ...: create PREFIX/n/j, update it twice, delete it (see `planned`).
"""

from __future__ import annotations

import asyncio
import sys

from kubelite.store.sqlite import SQLiteStore


def planned(prefix: str, writer: int, index: int) -> tuple[str, str, bytes]:
    """The writer's index-th operation: (kind, key, value)."""
    key = f"{prefix}/{writer}/{index // 4}"
    kind = ("create", "update", "update", "delete")[index % 4]
    return kind, key, f"{key}#{index % 4}".encode()


async def write(store: SQLiteStore, prefix: str, writer: int) -> None:
    revision = 0
    index = 0
    while True:
        kind, key, value = planned(prefix, writer, index)
        if kind == "create":
            revision = await store.create(key, value)
        elif kind == "update":
            revision = await store.update(key, value, expected_revision=revision)
        else:
            revision = (await store.delete(key, expected_revision=revision)).mod_revision
        print(writer, index, revision, flush=True)
        index += 1


async def main(path: str, prefix: str, writers: int) -> None:
    store = await SQLiteStore.open(path)
    print("ready", flush=True)
    await asyncio.gather(*(write(store, prefix, n) for n in range(writers)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
