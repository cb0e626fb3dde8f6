"""Apply image layer tars to directories, with OCI whiteouts, never writing outside the root.

Each layer is unpacked into its own directory so the runtime can stack them as overlayfs lowerdirs: a
whiteout becomes the overlay form (a 0/0 character device), an opaque directory gets the
`trusted.overlay.opaque` xattr.
`flatten=True` instead applies the layer onto an existing tree (deleting what whiteouts name), for tools and
tests that want one merged root.

tarfile's filter="data" refuses absolute symlinks such as /bin/sh -> /bin/busybox, which every image has, so
members are checked here: names must stay inside the root, hard links must point inside it, and nothing is
written through a symlink that leads outside it.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"


class LayerError(Exception):
    """A layer tar is unreadable or tries to write outside its root."""


def _clean_name(name: str) -> str:
    """The member's path relative to the root; refuse absolute names and any `..` component."""
    if name.startswith("/") or ".." in name.split("/"):
        raise LayerError(f"layer member {name!r} escapes the root")
    cleaned = posixpath.normpath(name)
    return "" if cleaned == "." else cleaned


def _inside(root: Path, path: str) -> bool:
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root + os.sep)


def _check_parent(root: Path, relative: str) -> str:
    """The host path for `relative`, refusing it when a parent directory resolves outside the root."""
    target = os.path.join(root, relative)
    if not _inside(root, os.path.dirname(target)):
        raise LayerError(f"layer member {relative!r} would be written through a symlink outside the root")
    return target


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _apply_whiteouts(root: Path, members: Iterable[tarfile.TarInfo], *, flatten: bool) -> None:
    # Whiteouts hide lower layers only, so they are handled before this layer's own files are written.
    for member in members:
        relative = _clean_name(member.name)
        parent, base = posixpath.split(relative)
        if not base.startswith(WHITEOUT_PREFIX):
            continue
        parent_path = os.path.join(root, parent)
        if not _inside(root, parent_path):
            raise LayerError(f"whiteout {relative!r} would reach through a symlink outside the root")
        if base == OPAQUE_MARKER:
            os.makedirs(parent_path, exist_ok=True)
            if flatten:
                for entry in os.listdir(parent_path):
                    _remove(os.path.join(parent_path, entry))
            else:
                os.setxattr(parent_path, OVERLAY_OPAQUE_XATTR, b"y")
            continue
        hidden = os.path.join(parent_path, base[len(WHITEOUT_PREFIX):])
        if flatten:
            _remove(hidden)
        else:
            os.makedirs(parent_path, exist_ok=True)
            _remove(hidden)
            os.mknod(hidden, 0o600 | stat.S_IFCHR, os.makedev(0, 0))


def _checked_member(root: Path, member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    relative = _clean_name(member.name)
    if not relative or posixpath.basename(relative).startswith(WHITEOUT_PREFIX):
        return None
    target = _check_parent(root, relative)
    if member.islnk():
        link = _clean_name(member.linkname)
        if not _inside(root, os.path.join(root, link)):
            raise LayerError(f"hard link {relative!r} -> {member.linkname!r} points outside the root")
    # Replace what a lower layer left here unless both are directories (a directory keeps its contents).
    existing_is_dir = os.path.isdir(target) and not os.path.islink(target)
    if os.path.lexists(target) and not (member.isdir() and existing_is_dir):
        _remove(target)
    return member.replace(name=relative, deep=False)


def apply_layer(layer: str | Path | IO[bytes], root: Path, *, flatten: bool = False) -> None:
    """Apply a layer tar (gzip or plain, a path or a readable file) onto `root`, creating it if needed."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        if isinstance(layer, str | Path):
            archive = tarfile.open(layer, mode="r:*")
        else:
            archive = tarfile.open(fileobj=layer, mode="r:*")
    except (tarfile.TarError, OSError) as error:
        raise LayerError(f"cannot read layer: {error}") from error
    with archive:
        try:
            members = archive.getmembers()
        except (tarfile.TarError, EOFError, OSError) as error:
            raise LayerError(f"layer tar is corrupt: {error}") from error
        _apply_whiteouts(root, members, flatten=flatten)
        directories: list[tarfile.TarInfo] = []
        for member in members:
            checked = _checked_member(root, member)
            if checked is None:
                continue
            try:
                # Ownership is numeric (the image's uids, not this host's names); modes are kept as written.
                archive.extract(checked, root, set_attrs=not checked.isdir(), numeric_owner=True,
                                filter="fully_trusted")
            except (tarfile.TarError, OSError) as error:
                raise LayerError(f"cannot extract {checked.name!r}: {error}") from error
            if checked.isdir():
                directories.append(checked)
        # Directory modes last, so a read-only directory does not block writing its own children.
        for directory in reversed(directories):
            path = os.path.join(root, directory.name)
            os.chown(path, directory.uid, directory.gid)
            os.chmod(path, directory.mode)
            os.utime(path, (directory.mtime, directory.mtime))

