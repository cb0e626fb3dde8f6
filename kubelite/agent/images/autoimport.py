"""Air-gapped nodes: archives dropped into the image store's folder are imported, as k3s does.

`<data-dir>/agent/images/*.tar` (also .tar.gz, .tgz, .oci) is scanned at start and then every `interval`
seconds; an archive is imported again only when its size or mtime changes, which a small JSON file beside the
store remembers across restarts. A broken archive is logged once per version and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import orjson

from kubelite.agent.images.archive import ArchiveError, import_archive
from kubelite.agent.images.reference import InvalidImageName
from kubelite.agent.images.store import ImageRecord, ImageStore

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".oci")
_STATE_FILE = ".imported.json"


def _signature(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


class ArchiveImporter:
    def __init__(self, store: ImageStore, directory: Path) -> None:
        self.store = store
        self.directory = directory
        self._state_path = directory / _STATE_FILE

    def _load_state(self) -> dict[str, str]:
        try:
            state: dict[str, str] = orjson.loads(self._state_path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        return state

    def _archives(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(
            path for path in self.directory.iterdir()
            if path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES)
        )

    async def scan(self) -> list[ImageRecord]:
        """Import every new or changed archive; returns the images tagged."""
        state = self._load_state()
        imported: list[ImageRecord] = []
        changed = False
        for path in self._archives():
            try:
                signature = _signature(path)
            except OSError:
                continue  # removed while scanning
            if state.get(path.name) == signature:
                continue
            try:
                records = await import_archive(self.store, path)
            except (ArchiveError, InvalidImageName) as error:
                log.warning("image archive %s not imported: %s", path, error)
            else:
                imported.extend(records)
                for record in records:
                    log.info("imported %s from %s", record.reference, path.name)
            state[path.name] = signature
            changed = True
        if changed:
            self._state_path.write_bytes(orjson.dumps(state))
        return imported

    async def run(self, interval: float = 10.0) -> None:
        while True:
            await self.scan()
            await asyncio.sleep(interval)
