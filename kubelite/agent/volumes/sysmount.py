"""mount(2) and umount2(2) through libc, and the mount points below a directory from mountinfo."""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
_MNT_DETACH = 0x2
_EINVAL, _ENOENT = 22, 2
_OCTAL = re.compile(r"\\([0-7]{3})")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _raise(target: Path | str) -> None:
    errno = ctypes.get_errno()
    raise OSError(errno, os.strerror(errno), str(target))


def mount_tmpfs(target: Path, *, flags: int = 0, size: int | None = None) -> None:
    options = f"size={size}" if size else ""
    if _libc.mount(b"tmpfs", str(target).encode(), b"tmpfs", flags, options.encode()) != 0:
        _raise(target)


def unmount(target: Path | str) -> None:
    """Lazy unmount (detached now, released when no longer busy); a target that is no mount point is fine."""
    if _libc.umount2(str(target).encode(), _MNT_DETACH) != 0 and ctypes.get_errno() not in (_EINVAL, _ENOENT):
        _raise(target)


def mount_points_under(root: Path) -> list[str]:
    """Mount points at or below `root`, in mount order (unmount them in reverse)."""
    prefix = str(root).rstrip("/")
    found = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            point = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), line.split(" ", 5)[4])
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found
