"""One kubelite process per data dir: an exclusive flock on `<data-dir>/kubelite.lock`, holding its pid.

`kubelite server` and `kubelite agent` hold it while they run; `kubelite uninstall` takes it too, so it
refuses while one runs and none can start under it. The kernel drops the lock when its holder dies (even
by SIGKILL), so a stale file never blocks anyone. The descriptor is not inherited (O_CLOEXEC): containers'
monitors, which outlive the agent, never keep it.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "kubelite.lock"


class DataDirInUse(Exception):
    """Another process holds the data dir; the message names it."""


@contextmanager
def hold(data_dir: Path) -> Iterator[None]:
    """Hold the data dir's lock (creating the dir) for the `with` block; DataDirInUse if someone else does."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise DataDirInUse(f"kubelite process {holder} is still using {data_dir}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
