"""OciRuntime with real crun/runc and conmon: logs, exit codes, stop with grace, OOM, adoption, security."""

from __future__ import annotations

import asyncio
import os
import pickle
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

import pytest

from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime.oci import OciRuntime
from kubelite.agent.runtime.types import ContainerState, Resources, RuntimeFailure, Security, Status
from tests.integration.agent.runtime.conftest import PATH_ENV, SpecFactory
from tests.support.netns import NetNamespace

RFC3339_NANO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}(Z|[+-]\d\d:\d\d)")


def exists(path: str) -> bool:
    return Path(path).exists()


def cgroup_dirs(cgroup: str) -> list[Path]:
    """Where a cgroup exists, in any v1 hierarchy or the cgroup2 mount."""
    return [path for path in Path("/sys/fs/cgroup").glob(f"*{cgroup}") if path.is_dir()]


def read(path: str) -> str:
    return Path(path).read_text()


async def wait_exited(runtime: OciRuntime, container_id: str, seconds: float = 10) -> ContainerState:
    deadline = time.monotonic() + seconds
    while True:
        state = await runtime.state(container_id)
        assert state is not None
        if state.status is Status.EXITED or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.02)


async def test_echo_writes_a_cri_log_line_and_exits_zero(each_runtime: OciRuntime,
                                                         make_spec: SpecFactory) -> None:
    spec = make_spec("sh", "-c", "echo hi; echo oops >&2")
    started = await each_runtime.create_and_start(spec)
    assert started.status in (Status.RUNNING, Status.EXITED) and started.pid
    state = await wait_exited(each_runtime, spec.container_id)
    assert (state.status, state.exit_code, state.oom_killed) == (Status.EXITED, 0, False)
    assert state.started_at is not None and state.finished_at is not None
    assert state.created_at <= state.started_at <= state.finished_at
    lines = spec.log_path.read_text().splitlines()
    # conmon reads stdout and stderr separately: their relative order is not guaranteed.
    assert sorted(line.split(" ", 1)[1] for line in lines) == ["stderr F oops", "stdout F hi"]
    assert all(RFC3339_NANO.fullmatch(line.split(" ", 1)[0]) for line in lines)


async def test_exit_code_is_reported(each_runtime: OciRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec("sh", "-c", "exit 3")
    await each_runtime.create_and_start(spec)
    state = await wait_exited(each_runtime, spec.container_id)
    assert (state.status, state.exit_code) == (Status.EXITED, 3)
    assert [s.container_id for s in await each_runtime.list()] == [spec.container_id]


async def test_stop_kills_after_the_grace_period(each_runtime: OciRuntime, make_spec: SpecFactory,
                                                 node_paths: NodePaths) -> None:
    spec = make_spec("sleep", "1000")
    await each_runtime.create_and_start(spec)
    begun = time.monotonic()
    await each_runtime.stop(spec.container_id, 0.5)  # busybox sleep as PID 1 ignores SIGTERM
    elapsed = time.monotonic() - begun
    state = await each_runtime.state(spec.container_id)
    assert state is not None and (state.status, state.exit_code) == (Status.EXITED, 137)
    assert 0.5 <= elapsed < 3
    await each_runtime.remove(spec.container_id)
    assert await each_runtime.state(spec.container_id) is None
    assert not (node_paths.containers / spec.container_id).exists()
    assert cgroup_dirs(spec.cgroup_parent) and not cgroup_dirs(f"{spec.cgroup_parent}/{spec.container_id}")
    await each_runtime.remove(spec.container_id)  # idempotent
    await each_runtime.remove_pod_cgroup(spec.pod_uid)
    assert cgroup_dirs(spec.cgroup_parent) == []


async def test_stop_with_a_term_handler_exits_early(runtime: OciRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec("sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done")
    await runtime.create_and_start(spec)
    await asyncio.sleep(0.2)  # let the shell install its trap
    begun = time.monotonic()
    await runtime.stop(spec.container_id, 10)
    state = await runtime.state(spec.container_id)
    assert state is not None and (state.status, state.exit_code) == (Status.EXITED, 0)
    assert time.monotonic() - begun < 2


async def test_memory_hog_is_oom_killed(each_runtime: OciRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec("sh", "-c", "x=$(head -c 64m /dev/zero | tr '\\0' a); echo survived",
                     resources=Resources(memory_limit=16 * 1024 * 1024))
    await each_runtime.create_and_start(spec)
    state = await wait_exited(each_runtime, spec.container_id, 30)
    assert (state.status, state.exit_code, state.oom_killed) == (Status.EXITED, 137, True)


# A separate agent process that starts one container and exits.
AGENT = """
import asyncio, pickle, sys
from kubelite.agent.images.store import ImageStore
from kubelite.agent.runtime.oci import OciRuntime
paths, spec = pickle.load(sys.stdin.buffer)
print(asyncio.run(OciRuntime(paths, ImageStore(paths.images)).create_and_start(spec)).pid)
"""


async def test_containers_outlive_their_agent_and_are_adopted(runtime: OciRuntime, make_spec: SpecFactory,
                                                             node_paths: NodePaths) -> None:
    spec = make_spec("sh", "-c", "sleep 0.3; echo after-the-agent; exec sleep 1000")
    agent = await asyncio.create_subprocess_exec(sys.executable, "-c", AGENT, stdin=subprocess.PIPE,
                                                 stdout=subprocess.PIPE)
    output, _ = await agent.communicate(pickle.dumps((node_paths, spec)))
    assert agent.returncode == 0
    started_pid = int(output)
    [state] = await runtime.list()  # a runtime that never saw this container
    assert state == await runtime.state(spec.container_id)
    assert (state.status, state.pid) == (Status.RUNNING, started_pid)
    assert (state.pod_uid, state.name, state.attempt, state.image_id) == (
        spec.pod_uid, "main", 0, spec.image.image_id)
    deadline = time.monotonic() + 5
    while "after-the-agent" not in spec.log_path.read_text():  # written once the agent was gone
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    # conmon is in a session of its own and not our child: no agent's signals or pipes reach it.
    conmon = read(f"{node_paths.containers / spec.container_id}/conmon.pid").strip()
    conmon_stat = read(f"/proc/{conmon}/stat").rsplit(")", 1)[1].split()
    assert int(conmon_stat[1]) != os.getpid() and int(conmon_stat[3]) != os.getsid(0)
    script = "echo $PATH; cat /proc/1/cmdline"
    code, output_text = await runtime.exec_capture(spec.container_id, ["sh", "-c", script], 5)
    assert code == 0 and output_text.split("\n")[1].startswith("sleep")
    assert "/bin" in output_text.split("\n")[0]
    state = await runtime.state(spec.container_id)
    assert state is not None and (state.status, state.pid) == (Status.RUNNING, started_pid)
    await runtime.stop(spec.container_id, 0)


async def test_read_only_root_user_and_dropped_capabilities(runtime: OciRuntime,
                                                            make_spec: SpecFactory) -> None:
    script = ("id -u; id -g; grep CapEff /proc/self/status; "
              "touch /x 2>/dev/null && echo writable || echo readonly; touch /tmp/y && echo tmp-writable")
    spec = make_spec("sh", "-c", script, security=Security(
        run_as_user=65534, read_only_root=True, drop_capabilities=("ALL",), allow_privilege_escalation=False))
    await runtime.create_and_start(spec)
    state = await wait_exited(runtime, spec.container_id)
    assert state.exit_code == 1  # /tmp is part of the read-only root too
    output = [line.split(" ", 3)[3] for line in spec.log_path.read_text().splitlines()]
    assert output[:4] == ["65534", "65534", "CapEff:\t0000000000000000", "readonly"]


async def test_default_capabilities_for_root(runtime: OciRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec("sh", "-c", "grep CapBnd /proc/self/status; touch /x && echo writable")
    await runtime.create_and_start(spec)
    state = await wait_exited(runtime, spec.container_id)
    output = [line.split(" ", 3)[3] for line in spec.log_path.read_text().splitlines()]
    assert state.exit_code == 0 and output == ["CapBnd:\t00000000a80425fb", "writable"]


async def test_containers_sharing_a_netns_share_its_ports(runtime: OciRuntime,
                                                          make_spec: SpecFactory) -> None:
    with NetNamespace() as netns:
        first = make_spec("nc", "-l", "-p", "8080", netns_path=netns.path)
        await runtime.create_and_start(first)
        deadline = time.monotonic() + 5
        while ":8080" not in netns.run("ss", "-ltn").stdout:
            assert time.monotonic() < deadline, "the first listener never bound"
            await asyncio.sleep(0.02)
        second = make_spec("nc", "-l", "-p", "8080", netns_path=netns.path, name="second")
        await runtime.create_and_start(second)
        state = await wait_exited(runtime, second.container_id)
        assert state.exit_code == 1 and "Address already in use" in second.log_path.read_text()
        running = await runtime.state(first.container_id)
        assert running is not None and running.status is Status.RUNNING
        await runtime.stop(first.container_id, 0)


async def test_a_missing_executable_fails_and_leaves_nothing(runtime: OciRuntime, make_spec: SpecFactory,
                                                            node_paths: NodePaths) -> None:
    spec = make_spec("/no/such/program")
    with pytest.raises(RuntimeFailure) as failure:
        await runtime.create_and_start(spec)
    assert "/no/such/program" in str(failure.value)
    assert not (node_paths.containers / spec.container_id).exists()
    assert await runtime.list() == []


async def test_an_unknown_image_user_is_a_config_error(runtime: OciRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec("true", security=Security(run_as_user=None))
    image_user = replace(runtime.image_config(spec.image), user="nosuchuser")
    assert image_user.user == "nosuchuser"
    with pytest.raises(RuntimeFailure) as failure:
        with patch.object(runtime, "image_config", return_value=image_user):
            await runtime.create_and_start(spec)
    assert failure.value.reason == "CreateContainerConfigError"
    assert "nosuchuser" in str(failure.value)


async def test_exec_env_keeps_the_containers_environment(runtime: OciRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec("sleep", "1000", env=(PATH_ENV, "FROM_POD=1"))
    await runtime.create_and_start(spec)
    command = runtime.exec_command(spec.container_id, ["sh", "-c", "echo $FROM_POD $EXTRA $PATH"], tty=False,
                                   env={"EXTRA": "2"})
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    output, _ = await process.communicate()
    assert output.decode().split() == ["1", "2", PATH_ENV.removeprefix("PATH=")]
    with pytest.raises(TimeoutError):
        await runtime.exec_capture(spec.container_id, ["sleep", "5"], 0.2)
    begun = time.monotonic()  # a background child keeping the output open does not hold the result back
    code, output = await runtime.exec_capture(spec.container_id, ["sh", "-c", "sleep 5 & echo bg; exit 7"], 3)
    assert (code, output, time.monotonic() - begun < 1) == (7, "bg\n", True)
    await runtime.stop(spec.container_id, 0)


async def test_create_and_start_is_fast(runtime: OciRuntime, make_spec: SpecFactory) -> None:
    timings = []
    for _ in range(5):
        spec = make_spec("sleep", "1000")
        begun = time.monotonic()
        await runtime.create_and_start(spec)
        timings.append(time.monotonic() - begun)
        await runtime.stop(spec.container_id, 0)
    assert sorted(timings)[2] < 0.25, timings  # ~30 ms with crun when the machine is idle


async def test_privileged_gets_host_devices_and_every_capability(runtime: OciRuntime,
                                                                 make_spec: SpecFactory) -> None:
    spec = make_spec("sh", "-c", "test -e /dev/kmsg && grep CapEff /proc/self/status",
                     security=Security(privileged=True))
    await runtime.create_and_start(spec)
    state = await wait_exited(runtime, spec.container_id)
    mine = next(line for line in read("/proc/self/status").splitlines() if line.startswith("CapBnd:"))
    assert state.exit_code == 0 and spec.log_path.read_text().split()[-1] == mine.split()[1]


async def test_tty_output_and_limits(runtime: OciRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec("sh", "-c", "tty; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us",
                     tty=True, resources=Resources(pids_limit=20, cpu_quota=20_000, cpu_shares=100))
    await runtime.create_and_start(spec)
    state = await wait_exited(runtime, spec.container_id)
    output = [line.split(" ", 3)[3] for line in spec.log_path.read_text().splitlines()]
    assert state.exit_code == 0 and output == ["/dev/pts/0", "20", "20000"]


async def test_containers_keep_the_runtime_that_created_them(
        runtimes: Callable[[str], OciRuntime], make_spec: SpecFactory, node_paths: NodePaths) -> None:
    spec = make_spec("sleep", "1000")
    await runtimes("runc").create_and_start(spec)
    crun = runtimes("crun")  # the agent was reconfigured: runc still execs into and deletes that container
    assert crun.exec_command(spec.container_id, ["true"], tty=False, env={})[:3] == [
        shutil.which("runc"), "--root", str(node_paths.runtime_state("runc"))]
    assert await crun.exec_capture(spec.container_id, ["echo", "ok"], 5) == (0, "ok\n")
    await crun.stop(spec.container_id, 0)
    await crun.remove(spec.container_id)
    assert not exists(f"{node_paths.runtime_state('runc')}/{spec.container_id}")


async def test_a_cancelled_create_leaves_nothing(runtime: OciRuntime, make_spec: SpecFactory,
                                                 node_paths: NodePaths) -> None:
    for delay in (0, 0.005, 0.02):
        spec = make_spec("sleep", "1000")
        creating = asyncio.create_task(runtime.create_and_start(spec))
        await asyncio.sleep(delay)
        creating.cancel()
        with pytest.raises(asyncio.CancelledError):
            await creating
        assert not exists(str(node_paths.containers / spec.container_id))
        assert cgroup_dirs(f"{spec.cgroup_parent}/{spec.container_id}") == []
    assert await runtime.list() == []
