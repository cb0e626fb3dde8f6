"""Exec probes and hooks in a real busybox container (crun under conmon)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kubelite.agent.pods.hooks import run_hook
from kubelite.agent.pods.probes import ProbeKey, ProbeKind, Prober, ProbeResult
from kubelite.agent.runtime.oci import OciRuntime
from tests.integration.agent.runtime.conftest import SpecFactory


async def test_exec_probes_and_hooks_in_a_container(runtime: OciRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec("sleep", "1000")
    state = await runtime.create_and_start(spec)
    cid = spec.container_id
    options: dict[str, Any] = {"container_id": cid, "netns_path": None, "pod_ip": "127.0.0.1", "timeout": 5.0}
    post_start = {"exec": {"command": ["sh", "-c", "echo up > /tmp/healthy"]}}
    assert await run_hook(runtime, post_start, **options) is None

    results: list[tuple[ProbeKey, ProbeResult]] = []
    prober = Prober(runtime, on_result=lambda key, result: results.append((key, result)))
    check = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 0.1, "timeoutSeconds": 2}
    container = {"name": "main", "livenessProbe": {**check, "failureThreshold": 2}, "readinessProbe": check}
    pod = {
        "metadata": {"uid": spec.pod_uid, "name": "p", "namespace": "default"},
        "spec": {"containers": [container]},
    }
    try:
        prober.update(pod, "main", cid, None, "127.0.0.1", state.started_at or time.time())
        deadline = time.monotonic() + 10
        while not prober.ready(spec.pod_uid, "main"):
            assert time.monotonic() < deadline, results
            await asyncio.sleep(0.02)
        await runtime.exec_capture(cid, ["rm", "/tmp/healthy"], 5)
        while not any(k.kind is ProbeKind.LIVENESS and r.changed for k, r in results):
            assert time.monotonic() < deadline, results
            await asyncio.sleep(0.02)
    finally:
        await prober.close()
    liveness = [r for k, r in results if k.kind is ProbeKind.LIVENESS]
    assert liveness[-1].healthy is False
    assert liveness[-1].event_message == (
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n"
    )

    pre_stop = {"exec": {"command": ["sh", "-c", "echo bye; exit 3"]}}
    message = await run_hook(runtime, pre_stop, pod=pod, container=container, **options)
    where = f'for Container "main" in Pod "p_default({spec.pod_uid})"'
    assert message == (
        f"Exec lifecycle hook ([sh -c echo bye; exit 3]) {where} failed - error: "
        "command 'sh -c echo bye; exit 3' exited with 3: , message: \"bye\\n\""
    )
    await runtime.stop(cid, 0)
