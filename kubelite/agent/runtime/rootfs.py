"""A container's root filesystem: an overlay of the image's unpacked layers with a private upper dir.

mount(2) and umount2(2) are called directly (no `mount` process per container).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from collections.abc import Sequence
from pathlib import Path

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
_libc.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
MNT_DETACH = 2


def _raise_errno(what: str, path: Path) -> None:
    code = ctypes.get_errno()
    raise OSError(code, f"{what} {path}: {os.strerror(code)}")


def mount_overlay(layers: Sequence[Path], bundle: Path) -> Path:
    """Mount `layers` (bottom first) at bundle/rootfs with bundle/upper and bundle/work; returns rootfs."""
    rootfs, upper, work = bundle / "rootfs", bundle / "upper", bundle / "work"
    for directory in (rootfs, upper, work):
        directory.mkdir(exist_ok=True)
    # overlayfs lists lowerdirs top first; ':' and ',' in paths would need escaping, store paths have none.
    lower = ":".join(str(layer) for layer in reversed(layers))
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    if len(options) >= 4096:
        raise OSError(errno.E2BIG, f"overlay options for {len(layers)} layers exceed a page")
    if _libc.mount(b"overlay", str(rootfs).encode(), b"overlay", 0, options.encode()) != 0:
        _raise_errno("cannot mount the overlay root filesystem at", rootfs)
    return rootfs


def unmount(path: Path) -> None:
    """Detach every mount stacked at `path`; nothing to do when none is."""
    while True:
        if _libc.umount2(str(path).encode(), MNT_DETACH) != 0:
            code = ctypes.get_errno()
            if code in (errno.EINVAL, errno.ENOENT):  # not a mount point (any more)
                return
            _raise_errno("cannot unmount", path)
