"""Log rotation of a running container: renamed past the size limit, conmon reopens, old files pruned."""

from __future__ import annotations

import asyncio

from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime.logrotate import LogRotator
from kubelite.agent.runtime.oci import OciRuntime
from tests.integration.agent.runtime.conftest import SpecFactory


async def test_a_growing_log_is_rotated_and_the_container_keeps_logging(
    runtime: OciRuntime, make_spec: SpecFactory, node_paths: NodePaths
) -> None:
    spec = make_spec("sh", "-c", "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.01; done")
    await runtime.create_and_start(spec)
    rotator = LogRotator(runtime, node_paths, max_size=2048, max_files=3)
    rotations = 0
    for _ in range(100):
        await asyncio.sleep(0.1)
        rotations += await rotator.rotate()
        if rotations >= 4:
            break
    assert rotations >= 4
    rotated = sorted(spec.log_path.parent.glob(f"{spec.log_path.name}.2*"))  # named by the time
    assert len(rotated) == 2  # max_files counts the current file too

    for _ in range(50):  # conmon handles its control FIFO asynchronously
        if spec.log_path.exists():
            break
        await asyncio.sleep(0.05)
    size = spec.log_path.stat().st_size
    await asyncio.sleep(0.5)
    assert spec.log_path.stat().st_size > size  # conmon reopened the path and writes on
    newest_rotated_line = rotated[-1].read_text().splitlines()[-1]
    first_current_line = spec.log_path.read_text().splitlines()[0]
    last = int(newest_rotated_line.rsplit("line-", 1)[1])
    assert int(first_current_line.rsplit("line-", 1)[1]) in (last + 1, last + 2)  # nothing lost between
    assert await rotator.rotate() in (0, 1)
