"""Container log rotation, as the kubelet does it: a running container's log past `max_size` is renamed to
`<attempt>.log.<timestamp>` and its conmon told to reopen the path; at most `max_files` files per container
are kept (the current one included), oldest removed first. `kubectl logs` reads the current file; `-f` follows
across the rename.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
from pathlib import Path

from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime import monitor
from kubelite.agent.runtime.types import ContainerState, Runtime, Status

log = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 10 * 1024 * 1024  # the kubelet's containerLogMaxSize
DEFAULT_MAX_FILES = 5  # and containerLogMaxFiles
# Rotated files end in `<attempt>.log.<YYYYmmdd-HHMMSS.ffffff>`: the suffix is the microseconds. conmon's own
# `<attempt>.log.tmp`, made while it reopens the log, is not one of them.
_ROTATED = re.compile(r"\.\d{6}")


class LogRotator:
    def __init__(
        self,
        runtime: Runtime,
        paths: NodePaths,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        max_files: int = DEFAULT_MAX_FILES,
    ) -> None:
        self.runtime = runtime
        self.paths = paths
        self.max_size = max_size
        self.max_files = max_files

    def _log_path(self, state: ContainerState) -> Path:
        return self.paths.container_log(
            state.pod_namespace, state.pod_name, state.pod_uid, state.name, state.attempt
        )

    def _rotate(self, state: ContainerState) -> bool:
        current = self._log_path(state)
        try:
            if current.stat().st_size <= self.max_size:
                return False
        except FileNotFoundError:
            return False
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S.%f")
        current.rename(current.with_name(f"{current.name}.{stamp}"))
        monitor.control(self.paths.containers / state.container_id, monitor.REOPEN_LOGS)
        rotated = sorted(p for p in current.parent.glob(f"{current.name}.*") if _ROTATED.fullmatch(p.suffix))
        for old in rotated[: max(0, len(rotated) - (self.max_files - 1))]:
            old.unlink(missing_ok=True)
        return True

    async def rotate(self) -> int:
        """Rotate every running container's log that outgrew the limit; returns how many were."""
        running = [s for s in await self.runtime.list() if s.status is Status.RUNNING]
        return sum([await asyncio.to_thread(self._rotate, state) for state in running])

    async def run(self, interval: float = 10.0) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.rotate()
            except OSError as error:  # a full disk or a vanished directory: try again next round
                log.warning("log rotation failed: %s", error)
