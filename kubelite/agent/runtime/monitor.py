"""Each container runs under its own conmon: it creates the container, reaps it, writes its CRI-format log and
its exit code, and outlives the agent (it daemonizes in a new session; the agent holds none of its pipes).

conmon reports the container's pid (or the runtime's error) once on the sync pipe, then the agent runs
`<runtime> start`. Files conmon leaves in the bundle: `pidfile` (container pid), `conmon.pid`, `exit`
(the exit code, mtime = when it exited) and `oom` (present when the kernel OOM-killed in its cgroup).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import orjson

# conmon truncates a log past this size: only a backstop while the agent, which rotates logs at 10 MiB
# (kubelite.agent.runtime.logrotate), is not running.
DEFAULT_LOG_SIZE_MAX = 64 * 1024 * 1024
SYNC_TIMEOUT = 30.0


@dataclass(frozen=True)
class BundleFiles:
    bundle: Path

    @property
    def config(self) -> Path:
        return self.bundle / "config.json"

    @property
    def state(self) -> Path:  # the agent's own record: times, pids
        return self.bundle / "kubelite-state.json"

    @property
    def exit(self) -> Path:
        return self.bundle / "exit"

    @property
    def oom(self) -> Path:
        return self.bundle / "oom"

    @property
    def container_pid(self) -> Path:
        return self.bundle / "pidfile"

    @property
    def conmon_pid(self) -> Path:
        return self.bundle / "conmon.pid"

    @property
    def exit_dir(self) -> Path:
        return self.bundle / "exits"

    @property
    def conmon_log(self) -> Path:
        return self.bundle / "conmon.log"


class MonitorError(Exception):
    pass


RESIZE = 1  # conmon's control FIFO messages: `<type> <height> <width>`
REOPEN_LOGS = 2


def control(bundle: Path, kind: int, height: int = 0, width: int = 0) -> bool:
    """Send conmon a control message through the bundle's FIFO; False if no monitor is listening."""
    try:
        fd = os.open(bundle / "ctl", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.write(fd, f"{kind} {height} {width}\n".encode())
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


@dataclass(frozen=True)
class MonitorOptions:
    conmon: str
    runtime: str  # absolute path of crun or runc
    runtime_root: Path
    log_size_max: int = DEFAULT_LOG_SIZE_MAX


def conmon_argv(options: MonitorOptions, files: BundleFiles, container_id: str, name: str, log_path: Path,
                *, tty: bool, stdin: bool, stdin_once: bool) -> list[str]:
    argv = [
        options.conmon, "--api-version", "1",
        "--cid", container_id, "--cuuid", container_id, "--name", name,
        "--runtime", options.runtime, "--runtime-arg", f"--root={options.runtime_root}",
        "--bundle", str(files.bundle), "--persist-dir", str(files.bundle), "--exit-dir", str(files.exit_dir),
        "--socket-dir-path", str(files.bundle),
        "--container-pidfile", str(files.container_pid), "--conmon-pidfile", str(files.conmon_pid),
        "--log-path", str(log_path), "--log-size-max", str(options.log_size_max),
        "--log-level", "error",
    ]
    if tty:
        argv.append("--terminal")
    if stdin:
        argv.append("--stdin")
        if not stdin_once:
            argv.append("--leave-stdin-open")
    return argv


async def _read_sync_message(read_fd: int) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                os.fdopen(read_fd, "rb", buffering=0))
    try:
        line = await asyncio.wait_for(reader.readline(), SYNC_TIMEOUT)
    finally:
        transport.close()
    if not line:
        raise MonitorError("conmon exited without reporting the container's pid")
    message: dict[str, object] = orjson.loads(line)
    return message


async def create_under_monitor(options: MonitorOptions, files: BundleFiles, container_id: str, name: str,
                               log_path: Path, *, tty: bool, stdin: bool, stdin_once: bool) -> int:
    """Have conmon create the container (not start it); returns the container's pid."""
    files.exit_dir.mkdir(exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    argv = conmon_argv(options, files, container_id, name, log_path, tty=tty, stdin=stdin,
                       stdin_once=stdin_once)
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "_OCI_SYNCPIPE": str(write_fd)}
    stderr = os.open(files.conmon_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
            pass_fds=(write_fd,), env=env, start_new_session=True,
            cwd=files.bundle)  # conmon also drops an `oom` marker into its working directory
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
        os.close(stderr)
    # conmon forks at once: the first process exits, the daemon keeps the sync pipe's write end.
    try:
        message = await _read_sync_message(read_fd)
    finally:
        await process.wait()
    pid = message.get("data")
    if not isinstance(pid, int) or pid <= 0:
        detail = str(message.get("message") or files.conmon_log.read_text(errors="replace").strip())
        raise MonitorError(detail or "the runtime could not create the container")
    return pid
