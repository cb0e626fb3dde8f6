"""The Runtime protocol on crun or runc, one conmon per container.

Everything the runtime knows lives in the bundle (paths.containers/<id>): config.json (with annotations naming
the pod, container and image), the agent's kubelite-state.json (times and pids) and conmon's files, so a
restarted agent adopts its running containers without touching them. state() reads only those files and
/proc; the runtime binary runs for create/start/delete/exec only.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

import orjson

from kubelite.agent.images.store import ImageRecord, ImageStore
from kubelite.agent.paths import NodePaths
from kubelite.agent.runtime import cgroups
from kubelite.agent.runtime import spec as oci_spec
from kubelite.agent.runtime.imageconfig import DEFAULT_PATH, ImageConfigData, load_image_config, resolve_user
from kubelite.agent.runtime.monitor import (
    DEFAULT_LOG_SIZE_MAX,
    BundleFiles,
    MonitorError,
    MonitorOptions,
    create_under_monitor,
)
from kubelite.agent.runtime.rootfs import mount_overlay, unmount
from kubelite.agent.runtime.types import ContainerSpec, ContainerState, RuntimeFailure, Status

_POLL = 0.01
_KILL_TIMEOUT = 30.0
_OUTPUT_DRAIN = 0.2


@dataclass(frozen=True)
class _Metadata:
    """What config.json says about a container (it never changes, so it is read once)."""

    pod_uid: str
    pod_namespace: str
    pod_name: str
    name: str
    attempt: int
    image_ref: str
    image_id: str
    cgroup_path: str
    runtime: str
    env: tuple[str, ...]


def _process_start(pid: int) -> str | None:
    """The process's start time in ticks (tells a live pid from a reused one); None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def _kill_descendants(pid: int) -> None:
    """SIGKILL what `<runtime> exec` runs, deepest first, leaving the runtime process to reap it: a zombie
    left to the host's init would hold up the container's pid namespace teardown until init reaps it."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return
    for child in map(int, children):
        _kill_descendants(child)
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _read_json(path: Path) -> dict[str, object]:
    try:
        data: dict[str, object] = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data


def kill_all(paths: NodePaths) -> list[int]:
    """SIGKILL every container of the node and then its conmon (uninstall: nothing may outlive the node);
    returns the pids signalled. A pid is signalled only while it is still the recorded process (same start
    time; for conmon, a command line naming the bundle): a reused pid belongs to someone else."""
    killed = []
    for bundle in sorted(paths.containers.iterdir()) if paths.containers.is_dir() else ():
        files = BundleFiles(bundle)
        record = _read_json(files.state)
        pid, pid_start = record.get("pid"), record.get("pid_start")
        targets: list[int] = []
        if isinstance(pid, int) and pid_start is not None and _process_start(pid) == pid_start:
            targets.append(pid)
        try:
            conmon = int(files.conmon_pid.read_text())
            if str(bundle).encode() in Path(f"/proc/{conmon}/cmdline").read_bytes().split(b"\0"):
                targets.append(conmon)
        except (OSError, ValueError):
            pass
        for target in targets:
            try:
                os.kill(target, signal.SIGKILL)
                killed.append(target)
            except ProcessLookupError:
                pass
    return killed


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    """Wait until the processes are gone (or zombies); returns those still alive after `seconds`."""
    deadline = time.monotonic() + seconds
    alive = [pid for pid in pids if _process_start(pid) is not None]
    while alive and time.monotonic() < deadline:
        time.sleep(_POLL)
        alive = [pid for pid in alive if _process_start(pid) is not None]
    return alive


class OciRuntime:
    def __init__(self, paths: NodePaths, images: ImageStore, *, binary: str = "crun",
                 conmon: str = "/usr/bin/conmon", log_size_max: int = DEFAULT_LOG_SIZE_MAX) -> None:
        runtime = shutil.which(binary)
        if runtime is None:
            raise FileNotFoundError(f"OCI runtime {binary!r} not found")
        self.paths = paths
        self.images = images
        self.binary = Path(binary).name
        self.options = MonitorOptions(conmon=conmon, runtime=runtime, log_size_max=log_size_max,
                                      runtime_root=paths.runtime_state(self.binary))
        self._metadata_cache: dict[str, _Metadata] = {}
        self._exited: dict[str, ContainerState] = {}  # an exit is final: read its files once
        self._capabilities = oci_spec.host_capabilities(Path("/proc/self/status").read_text())

    def _files(self, container_id: str) -> BundleFiles:
        return BundleFiles(self.paths.containers / container_id)

    def _runtime_argv(self, container_id: str) -> builtins.list[str]:
        """`<runtime> --root <state>` for the runtime that created the container (the agent's may have changed
        since)."""
        metadata = self._metadata(container_id)
        runtime = metadata.runtime if metadata is not None else self.options.runtime
        return [runtime, "--root", str(self.paths.runtime_state(Path(runtime).name))]

    async def _run_runtime(self, container_id: str, *args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            *self._runtime_argv(container_id), *args, container_id,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = await process.communicate()
        assert process.returncode is not None
        return process.returncode, output.decode(errors="replace").strip()

    # Creating.
    def _prepare_bundle(self, spec: ContainerSpec, files: BundleFiles) -> None:
        layers = self.images.unpack(spec.image)
        rootfs = mount_overlay(layers, files.bundle)
        security = spec.security
        try:
            if security.run_as_user is not None:
                user = resolve_user(str(security.run_as_user), rootfs)
            else:
                user = resolve_user(self.image_config(spec.image).user, rootfs)
        except ValueError as error:
            raise RuntimeFailure(str(error), reason="CreateContainerConfigError") from error
        gid = security.run_as_group if security.run_as_group is not None else user.gid
        config = oci_spec.build_config(spec, rootfs=str(rootfs), uid=user.uid, gid=gid,
                                       available_capabilities=self._capabilities)
        config["annotations"][oci_spec.RUNTIME] = self.options.runtime
        files.config.write_bytes(orjson.dumps(config))
        files.state.write_bytes(orjson.dumps({"created_at": time.time()}))

    async def _create(self, spec: ContainerSpec, files: BundleFiles) -> None:
        await asyncio.to_thread(self._prepare_bundle, spec, files)
        pid = await create_under_monitor(
            self.options, files, spec.container_id, spec.name, spec.log_path,
            tty=spec.tty, stdin=spec.stdin, stdin_once=spec.stdin_once)
        # Taken before `start`, so that a container that exits at once never finished before it started.
        started_at = time.time()
        code, output = await self._run_runtime(spec.container_id, "start")
        if code != 0:
            raise RuntimeFailure(f"cannot start container: {output}", reason="RunContainerError")
        record = orjson.loads(files.state.read_bytes())
        record.update(started_at=started_at, pid=pid, pid_start=_process_start(pid))
        files.state.write_bytes(orjson.dumps(record))

    async def create_and_start(self, spec: ContainerSpec) -> ContainerState:
        container_id = spec.container_id
        files = self._files(container_id)
        try:
            files.bundle.mkdir(parents=True)
        except FileExistsError:
            raise RuntimeFailure(f"container {container_id} already exists") from None
        creating = asyncio.ensure_future(self._create(spec, files))
        try:
            await asyncio.shield(creating)
        except BaseException as error:
            # Cancelled: let the mount, conmon and `start` under way finish, then undo everything.
            await asyncio.wait({creating})
            await asyncio.shield(self.remove(container_id))
            if isinstance(error, RuntimeFailure):
                raise
            if isinstance(error, MonitorError | OSError):
                raise RuntimeFailure(f"cannot create container: {error}") from error
            raise
        state = self._state(container_id)
        assert state is not None
        return state

    # Reading state: files and /proc only.
    def _metadata(self, container_id: str) -> _Metadata | None:
        cached = self._metadata_cache.get(container_id)
        if cached is not None:
            return cached
        config = _read_json(self._files(container_id).config)
        annotations = config.get("annotations")
        linux, process = config.get("linux"), config.get("process")
        if not (isinstance(annotations, dict) and isinstance(linux, dict) and isinstance(process, dict)):
            return None
        metadata = _Metadata(
            pod_uid=annotations[oci_spec.POD_UID], pod_namespace=annotations[oci_spec.POD_NAMESPACE],
            pod_name=annotations[oci_spec.POD_NAME], name=annotations[oci_spec.CONTAINER_NAME],
            attempt=int(annotations[oci_spec.ATTEMPT]), image_ref=annotations[oci_spec.IMAGE_REF],
            image_id=annotations[oci_spec.IMAGE_ID], cgroup_path=linux["cgroupsPath"],
            runtime=annotations.get(oci_spec.RUNTIME, self.options.runtime),
            env=tuple(process.get("env") or ()))
        self._metadata_cache[container_id] = metadata
        return metadata

    def _state(self, container_id: str) -> ContainerState | None:
        final = self._exited.get(container_id)
        if final is not None:
            return final
        metadata = self._metadata(container_id)
        if metadata is None:
            return None
        files = self._files(container_id)
        record = _read_json(files.state)
        created_at = record.get("created_at")
        started_at = record.get("started_at")
        pid = record.get("pid")
        base = ContainerState(
            container_id=container_id, pod_uid=metadata.pod_uid, pod_namespace=metadata.pod_namespace,
            pod_name=metadata.pod_name, name=metadata.name, attempt=metadata.attempt, status=Status.CREATED,
            image_ref=metadata.image_ref, image_id=metadata.image_id,
            created_at=float(created_at) if isinstance(created_at, int | float) else 0.0,
            started_at=float(started_at) if isinstance(started_at, int | float) else None,
            pid=pid if isinstance(pid, int) else None)
        exited = self._recorded_exit(container_id, base, files, metadata.cgroup_path)
        if exited is not None:
            return exited
        if base.pid is None or base.started_at is None:
            return base
        if _process_start(base.pid) == record.get("pid_start") or self._monitor_alive(files):
            # Also while the container has just died and its conmon is writing the exit file.
            return replace(base, status=Status.RUNNING)
        # conmon writes the exit file before it exits: it may have done both since the first look.
        exited = self._recorded_exit(container_id, base, files, metadata.cgroup_path)
        if exited is not None:
            return exited
        # The monitor died without recording an exit code: the kubelet's "unknown" exit.
        return replace(base, status=Status.EXITED, exit_code=255, finished_at=time.time())

    def _recorded_exit(
        self, container_id: str, base: ContainerState, files: BundleFiles, cgroup_path: str
    ) -> ContainerState | None:
        try:
            exit_text = files.exit.read_text()
            finished_at = files.exit.stat().st_mtime
        except FileNotFoundError:
            return None
        if not exit_text:  # conmon may be mid-write: an empty file is not an exit yet
            return None
        oom = files.oom.exists() or cgroups.oom_kills(cgroup_path) > 0
        final = replace(base, status=Status.EXITED, exit_code=int(exit_text), finished_at=finished_at,
                        oom_killed=oom)
        self._exited[container_id] = final
        return final

    @staticmethod
    def _monitor_alive(files: BundleFiles) -> bool:
        try:
            conmon_pid = int(files.conmon_pid.read_text())
        except (OSError, ValueError):
            return False
        return _process_start(conmon_pid) is not None

    async def state(self, container_id: str) -> ContainerState | None:
        return self._state(container_id)

    def _list(self, pod_uid: str | None) -> builtins.list[ContainerState]:
        if not self.paths.containers.is_dir():
            return []
        # Container IDs start with their pod's uid (container_id()): one pod's are found without reading
        # every other container's state, which would make a node's work grow with the square of its pods.
        entries = self.paths.containers.glob(f"{pod_uid}_*") if pod_uid else self.paths.containers.iterdir()
        found = (self._state(entry.name) for entry in sorted(entries))
        return [state for state in found if state is not None and pod_uid in (None, state.pod_uid)]

    async def list(self, pod_uid: str | None = None) -> builtins.list[ContainerState]:
        return await asyncio.to_thread(self._list, pod_uid)

    # Stopping and removing.
    def _signal(self, state: ContainerState, signum: int) -> None:
        record = _read_json(self._files(state.container_id).state)
        if state.pid is None or _process_start(state.pid) != record.get("pid_start"):
            return  # already gone (and the pid may belong to someone else by now)
        try:
            os.kill(state.pid, signum)
        except ProcessLookupError:
            pass

    async def _wait_exited(self, container_id: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            state = self._state(container_id)
            if state is None or state.status is not Status.RUNNING:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL)

    async def stop(self, container_id: str, grace_seconds: float) -> None:
        state = self._state(container_id)
        if state is None or state.status is not Status.RUNNING:
            return
        # PID 1 ignores SIGTERM unless it handles it; SIGKILL after the grace period, as the kubelet does.
        self._signal(state, signal.SIGTERM)
        if grace_seconds > 0 and await self._wait_exited(container_id, grace_seconds):
            return
        self._signal(state, signal.SIGKILL)
        if not await self._wait_exited(container_id, _KILL_TIMEOUT):
            raise RuntimeFailure(f"container {container_id} did not exit after SIGKILL", reason="KillError")

    def _remove_files(self, container_id: str, metadata: _Metadata | None) -> None:
        bundle = self._files(container_id).bundle
        unmount(bundle / "rootfs")
        shutil.rmtree(bundle, ignore_errors=True)
        if metadata is not None:
            cgroups.remove(metadata.cgroup_path)

    async def remove(self, container_id: str) -> None:
        files = self._files(container_id)
        self._exited.pop(container_id, None)
        if not files.bundle.exists():
            self._metadata_cache.pop(container_id, None)
            return
        state = self._state(container_id)
        if state is not None and state.status is not Status.EXITED:
            self._signal(state, signal.SIGKILL)
            await self._wait_exited(container_id, _KILL_TIMEOUT)
        await self._run_runtime(container_id, "delete", "--force")  # fails harmlessly if never created
        metadata = self._metadata(container_id)
        await asyncio.to_thread(self._remove_files, container_id, metadata)
        self._metadata_cache.pop(container_id, None)
        self._exited.pop(container_id, None)  # _state() above may have cached it again

    async def remove_pod_cgroup(self, pod_uid: str) -> None:
        await asyncio.to_thread(cgroups.remove, self.paths.pod_cgroup(pod_uid))

    # Exec.
    def exec_command(self, container_id: str, argv: builtins.list[str], *, tty: bool,
                     env: dict[str, str]) -> builtins.list[str]:
        """`<runtime> exec`: its --env replaces the container's environment, so that is passed in full."""
        metadata = self._metadata(container_id)
        merged = dict(entry.partition("=")[::2] for entry in (metadata.env if metadata else ()))
        merged.setdefault("PATH", DEFAULT_PATH)
        merged.update(env)
        command = [*self._runtime_argv(container_id), "exec"]
        if tty:
            command.append("--tty")
        for name, value in merged.items():
            command += ["--env", f"{name}={value}"]
        return [*command, container_id, *argv]

    async def exec_capture(self, container_id: str, argv: builtins.list[str],
                           seconds: float) -> tuple[int, str]:
        """Run argv in the container: (exit code, stdout and stderr); TimeoutError after `seconds`, with the
        command killed inside the container too."""
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            process = await asyncio.create_subprocess_exec(
                *self.exec_command(container_id, argv, tty=False, env={}),
                stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        # Our own pipe, not asyncio's: its wait() would also wait for whatever the command left running in the
        # background to close it. The output is what arrived until shortly after the command exited.
        reader = asyncio.StreamReader()
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0))
        output = bytearray()

        async def collect() -> None:
            while chunk := await reader.read(1 << 16):
                output.extend(chunk)

        collecting = asyncio.create_task(collect())
        try:
            code = await asyncio.wait_for(process.wait(), seconds)
            await asyncio.wait({collecting}, timeout=_OUTPUT_DRAIN)
        except (TimeoutError, asyncio.CancelledError):  # a cancelled (stopped) probe leaves nothing behind
            _kill_descendants(process.pid)
            try:
                await asyncio.wait_for(process.wait(), 2)
            except TimeoutError:
                process.kill()
                await process.wait()
            raise
        finally:
            collecting.cancel()
            transport.close()
        return code, output.decode(errors="replace")

    def image_config(self, image: ImageRecord) -> ImageConfigData:
        return load_image_config(self.images, image)
