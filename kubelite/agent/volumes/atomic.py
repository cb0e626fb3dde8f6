"""The kubelet's atomic writer: a whole set of files replaced at once, in place, under a live mount.

    <volume>/..2026_11_25_22_23_19.123456789/   the payload, written completely first
    <volume>/..data -> ..2026_11_25_22_23_19.123456789   swapped by rename(2), so readers see old or new
    <volume>/<name> -> ..data/<name>             what users see: one symlink per top-level name

Applications that watch `..data` (or re-read through the symlinks) never see a half-written update. Files a
container bind-mounted by subPath keep the old inode: subPath mounts are never updated, as upstream.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = "..data"
_DATA_TMP = "..data_tmp"


@dataclass(frozen=True)
class File:
    data: bytes
    mode: int = 0o644
    gid: int | None = None  # the pod's fsGroup, when it has one


Payload = dict[str, File]


def _current(ts_dir: Path) -> Payload:
    found: Payload = {}
    for dirpath, _, filenames in os.walk(ts_dir):
        for filename in filenames:
            full = Path(dirpath) / filename
            stat = full.lstat()
            found[str(full.relative_to(ts_dir))] = File(full.read_bytes(), stat.st_mode & 0o7777, stat.st_gid)
    return found


def _unchanged(current: Payload, payload: Payload) -> bool:
    if current.keys() != payload.keys():
        return False
    for path, want in payload.items():
        have = current[path]
        if have.data != want.data or have.mode != want.mode:
            return False
        if want.gid is not None and have.gid != want.gid:
            return False
    return True


def _new_ts_dir(target: Path) -> Path:
    stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    while True:
        ts_dir = target / f"{stamp}{secrets.randbelow(10**10):010d}"
        try:
            ts_dir.mkdir(mode=0o755)
        except FileExistsError:
            continue
        os.chmod(ts_dir, 0o755)  # whatever the umask: group and other must be able to traverse it
        return ts_dir


def write(target: Path, payload: Payload) -> bool:
    """Make `target` hold exactly `payload` (relative paths, already validated); False when it already
    did. Blocking: run it in a thread."""
    old_name = os.readlink(target / DATA_DIR) if (target / DATA_DIR).is_symlink() else None
    old_dir = target / old_name if old_name else None
    if old_dir is not None and old_dir.is_dir() and _unchanged(_current(old_dir), payload):
        return False
    ts_dir = _new_ts_dir(target)
    for rel, file in payload.items():
        full = ts_dir / rel
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(file.data)
        if file.gid is not None:
            os.chown(full, -1, file.gid)
        os.chmod(full, file.mode)
    tmp_link = target / _DATA_TMP
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(ts_dir.name)
    os.replace(tmp_link, target / DATA_DIR)
    visible = {rel.split("/", 1)[0] for rel in payload}
    for name in visible:
        link = target / name
        if not link.is_symlink():
            link.symlink_to(f"{DATA_DIR}/{name}")
    for entry in target.iterdir():
        if entry.name.startswith("..") or entry.name in visible:
            continue
        if entry.is_symlink():
            entry.unlink()
    if old_dir is not None and old_dir.name != ts_dir.name:
        shutil.rmtree(old_dir, ignore_errors=True)
    return True
