"""hostPath type checks, with the kubelet's creation rules and error messages."""

from __future__ import annotations

import os
import stat
from pathlib import Path

_CHECKS = {
    "Directory": (stat.S_ISDIR, "is not a directory"),
    "File": (stat.S_ISREG, "is not a file"),
    "Socket": (stat.S_ISSOCK, "is not a socket file"),
    "CharDevice": (stat.S_ISCHR, "is not a character device"),
    "BlockDevice": (stat.S_ISBLK, "is not a block device"),
}


class HostPathError(Exception):
    pass


def check(path: str, path_type: str | None) -> None:
    """Check (or create, for the *OrCreate types) `path` as a hostPath volume of `path_type`. Blocking.

    The unset type checks nothing but makes a missing directory, as container runtimes do for a missing
    bind source."""
    target = Path(path)
    if not path_type:
        if not os.path.lexists(target):
            target.mkdir(mode=0o755, parents=True, exist_ok=True)
        return
    if path_type == "DirectoryOrCreate":
        if not os.path.lexists(target):
            target.mkdir(mode=0o755, parents=True, exist_ok=True)
            return
        path_type = "Directory"
    elif path_type == "FileOrCreate":
        if not os.path.lexists(target):
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
            return
        path_type = "File"
    if path_type not in _CHECKS:
        raise HostPathError(f"{path_type} is an invalid volume type")
    predicate, what = _CHECKS[path_type]
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = 0
    if not predicate(mode):
        raise HostPathError(f"hostPath type check failed: {path} {what}")
