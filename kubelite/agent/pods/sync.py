"""One pod's level-triggered sync: sandbox, volumes, init containers in order, containers with their restart
policy and crash-loop back-off, probes' verdicts, the deadline, graceful termination, and its status."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time

from kubelite.agent.network.types import NetworkError, PodNetwork, PortMapping, Sandbox
from kubelite.agent.paths import NodePaths
from kubelite.agent.pods.backoff import Backoff, go_duration
from kubelite.agent.pods.containers import build_spec, format_pod
from kubelite.agent.pods.pulls import ImagePuller
from kubelite.agent.pods.record import (
    PODS,
    PodRecord,
    by_name,
    grace_period,
    newest,
    restarts,
    start_time,
    write_status,
)
from kubelite.agent.pods.types import JSON, POD_FILES, Images, PodHelpers, PodOptions, Prober, Waiting
from kubelite.agent.runtime.types import ContainerState, Runtime, RuntimeFailure, Status
from kubelite.agent.volumes.types import ConfigError, VolumeError, VolumeManager
from kubelite.api.quantity import parse
from kubelite.client import errors
from kubelite.client.events import EventRecorder
from kubelite.client.rest import RestClient

WARNING = "Warning"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


class PodSyncer:
    def __init__(
        self,
        client: RestClient,
        *,
        paths: NodePaths,
        runtime: Runtime,
        network: PodNetwork,
        volumes: VolumeManager,
        images: Images,
        prober: Prober,
        recorder: EventRecorder,
        options: PodOptions,
        helpers: PodHelpers,
    ) -> None:
        self.client = client
        self.paths = paths
        self.runtime = runtime
        self.network = network
        self.volumes = volumes
        self.prober = prober
        self.recorder = recorder
        self.options = options
        self.helpers = helpers
        self.crash_backoff = Backoff(initial=options.backoff_initial, cap=options.backoff_cap)
        self.puller = ImagePuller(
            images,
            recorder,
            Backoff(initial=options.backoff_initial, cap=options.backoff_cap),
            strict=options.strict_pulls,
        )
        self.records: dict[str, PodRecord] = {}

    def _event(self, pod: JSON, reason: str, message: str, event_type: str = "Normal") -> None:
        self.recorder.record(pod, reason=reason, message=message, event_type=event_type)

    async def _states(self, uid: str) -> list[ContainerState]:
        return await self.runtime.list(uid)

    def adopt_sandbox(self, pod: JSON, sandbox: Sandbox) -> None:
        """After an agent restart: the pod's network exists already, its pod files too."""
        uid = pod["metadata"]["uid"]
        record = self.records.setdefault(uid, PodRecord(uid, start_time=start_time(pod)))
        record.sandbox = sandbox

    # ---- the sync --------------------------------------------------------------------------------------

    async def sync(self, pod: JSON) -> float | None:
        """Converge one live pod; returns when to look again (None: on the next event or resync)."""
        uid = pod["metadata"]["uid"]
        record = self.records.get(uid)
        if record is None:
            record = self.records[uid] = PodRecord(uid, start_time=start_time(pod))
        spec = pod.get("spec") or {}
        phase = (record.written or pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            await self._stop_sandbox(pod, record)
            return None
        requeue: list[float] = []
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None:
            left = record.start_time + float(deadline) - time.time()
            if left <= 0:
                await self._deadline_exceeded(pod, record)
                return None
            requeue.append(left)
        try:
            await self._prepare(pod, record)
        except (NetworkError, VolumeError):
            await write_status(
                self.client,
                self.options,
                pod,
                record,
                await self._states(uid),
                sandbox_ready=record.sandbox is not None,
            )
            raise
        if (too_big := await self._over_size_limit(pod)) is not None:
            await self._evict(pod, record, too_big)
            return None
        requeue.extend(await self._containers(pod, record))
        states = await self._states(uid)
        self._forget_exited(record, states)
        status = await write_status(self.client, self.options, pod, record, states, sandbox_ready=True)
        if status["phase"] in ("Succeeded", "Failed"):
            await self._stop_sandbox(pod, record)
            return None
        await self._prune(states)
        return min(requeue) if requeue else None

    async def _prepare(self, pod: JSON, record: PodRecord) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        if record.sandbox is None and not spec.get("hostNetwork"):
            ports = [
                PortMapping(
                    int(p["hostPort"]),
                    int(p["containerPort"]),
                    str(p.get("protocol") or "TCP").lower(),
                    str(p.get("hostIP") or ""),
                )
                for c in spec.get("containers") or ()
                for p in c.get("ports") or ()
                if p.get("hostPort")
            ]
            try:
                record.sandbox = await self.network.setup(meta["uid"], meta["namespace"], meta["name"], ports)
            except NetworkError as exc:
                self._event(pod, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {exc}", WARNING)
                raise
            await self.helpers.write_pod_files(pod, record.sandbox.ip)
        elif spec.get("hostNetwork") and record.volumes_at is None:
            await self.helpers.write_pod_files(pod, self.options.node_ip)
        now = time.monotonic()
        try:
            if record.volumes_at is None:
                await self.volumes.setup(pod)
                record.volumes_at = now
            elif now - record.volumes_at > self.options.volume_refresh_seconds:
                await self.volumes.refresh(pod)
                record.volumes_at = now
        except VolumeError as exc:
            self._event(pod, exc.reason, str(exc), WARNING)
            raise

    def _pod_ip(self, record: PodRecord) -> str:
        return record.sandbox.ip if record.sandbox is not None else self.options.node_ip

    async def _containers(self, pod: JSON, record: PodRecord) -> list[float]:
        """Init containers one at a time, then every container; returns requeue delays (back-offs)."""
        spec = pod.get("spec") or {}
        policy = spec.get("restartPolicy", "Always")
        runs = by_name(await self._states(record.uid))
        requeue: list[float] = []
        for container in spec.get("initContainers") or ():
            current = newest(runs, container["name"])
            if current is not None and current.status is Status.EXITED and current.exit_code == 0:
                continue
            if current is not None and current.status is not Status.EXITED:
                return requeue  # still running: wait for it
            if current is not None and policy == "Never":
                return requeue  # failed for good: the phase becomes Failed
            await self._run(pod, record, container, current, requeue, policy="OnFailure")
            return requeue
        for container in spec.get("containers") or ():
            current = newest(runs, container["name"])
            if current is not None and current.status is Status.RUNNING:
                current = await self._check_liveness(pod, record, container, current)
            if current is not None and current.status is Status.RUNNING:
                self._watch_probes(pod, record, container, current)
                record.waiting.pop(container["name"], None)
                continue
            if current is not None and current.status is Status.EXITED and not restarts(policy, current):
                record.waiting.pop(container["name"], None)
                continue
            await self._run(pod, record, container, current, requeue, policy=policy)
        return requeue

    def _forget_exited(self, record: PodRecord, states: list[ContainerState]) -> None:
        """Stop probing containers that have exited on their own."""
        for state in states:
            if state.status is Status.EXITED and state.container_id in record.probed:
                record.probed.discard(state.container_id)
                self.prober.forget(state.container_id)

    async def _check_liveness(
        self, pod: JSON, record: PodRecord, container: JSON, current: ContainerState
    ) -> ContainerState | None:
        message = record.liveness_failed.pop(current.container_id, None)
        if message is None:
            return current
        self._event(pod, "Killing", message)
        await self._stop_container(pod, container, current, grace_period(pod))
        return await self.runtime.state(current.container_id)

    def _watch_probes(self, pod: JSON, record: PodRecord, container: JSON, current: ContainerState) -> None:
        if current.container_id in record.probed:
            return
        record.probed.add(current.container_id)
        netns = record.sandbox.netns_path if record.sandbox is not None else None
        self.prober.update(
            pod,
            container["name"],
            current.container_id,
            netns,
            self._pod_ip(record),
            current.started_at or current.created_at,
        )

    async def _run(
        self,
        pod: JSON,
        record: PodRecord,
        container: JSON,
        current: ContainerState | None,
        requeue: list[float],
        *,
        policy: str,
    ) -> None:
        """Start the container's next run, unless its crash-loop back-off holds it back."""
        name = container["name"]
        attempt = 0
        if current is not None and current.status is Status.CREATED:
            await self.runtime.remove(current.container_id)  # a start that never finished: try it again
            attempt = current.attempt
        elif current is not None:
            attempt = current.attempt + 1
            key = f"{record.uid}/{name}"
            finished = current.finished_at or time.time()
            left = self.crash_backoff.remaining(key, finished)
            if left > 0:
                delay = go_duration(self.crash_backoff.get(key))
                message = f"back-off {delay} restarting failed container={name} pod={format_pod(pod)}"
                if record.waiting.get(name, ("",))[0] != "CrashLoopBackOff":
                    self._event(
                        pod,
                        "BackOff",
                        f"Back-off restarting failed container {name} in pod {format_pod(pod)}",
                        WARNING,
                    )
                record.waiting[name] = ("CrashLoopBackOff", message)
                requeue.append(left)
                return
            self.crash_backoff.next(key, finished)
        try:
            await self._start(pod, record, container, attempt)
        except Waiting as waiting:
            record.waiting[name] = (waiting.reason, waiting.message)
            if waiting.reason == "ImagePullBackOff" or waiting.reason == "ErrImagePull":
                requeue.append(
                    self.puller.backoff.remaining_since_update(f"{record.uid}/{container.get('image')}")
                    or 1.0
                )
            else:
                requeue.append(self.options.backoff_initial)
            return
        record.waiting.pop(name, None)

    async def _start(self, pod: JSON, record: PodRecord, container: JSON, attempt: int) -> None:
        image = await self.puller.ensure(pod, container)
        config = self.runtime.image_config(image)
        ip = self._pod_ip(record)
        addresses = {
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "hostIP": self.options.node_ip,
            "hostIPs": [{"ip": self.options.node_ip}],
        }
        try:
            env = await self.helpers.build_env(
                {**pod, "status": {**(pod.get("status") or {}), **addresses}}, container
            )
        except ConfigError as exc:
            self._event(pod, "Failed", f"Error: {exc}", WARNING)
            raise Waiting("CreateContainerConfigError", str(exc)) from exc
        for reason, message in env.warnings:
            self._event(pod, reason, message, WARNING)
        try:
            spec = build_spec(
                pod,
                container,
                attempt=attempt,
                image=image,
                config=config,
                env=env.variables,
                volume_mounts=self.volumes.container_mounts(pod, container),
                netns_path=record.sandbox.netns_path if record.sandbox is not None else None,
                paths=self.paths,
            )
            state = await self.runtime.create_and_start(spec)
        except Waiting as waiting:
            self._event(pod, "Failed", f"Error: {waiting.message}", WARNING)
            raise
        except RuntimeFailure as exc:
            self._event(pod, "Failed", f"Error: {exc}", WARNING)
            raise Waiting(exc.reason, str(exc)) from exc
        name = container["name"]
        self._event(pod, "Created", f"Created container {name}")
        self._event(pod, "Started", f"Started container {name}")
        self._watch_probes(pod, record, container, state)
        hook = (container.get("lifecycle") or {}).get("postStart")
        if hook:
            failure = await self.helpers.run_hook(
                hook,
                container_id=state.container_id,
                netns_path=spec.netns_path,
                pod_ip=self._pod_ip(record),
                timeout=grace_period(pod),
                pod=pod,
                container=container,
            )
            if failure is not None:
                self._event(pod, "FailedPostStartHook", failure, WARNING)
                self._event(pod, "Killing", f"FailedPostStartHook: stopping container {name}")
                await self._stop_container(pod, container, state, grace_period(pod), run_pre_stop=False)

    async def _stop_container(
        self,
        pod: JSON,
        container: JSON | None,
        state: ContainerState,
        grace: float,
        *,
        run_pre_stop: bool = True,
    ) -> None:
        began = time.monotonic()
        hook = ((container or {}).get("lifecycle") or {}).get("preStop")
        record = self.records.get(state.pod_uid)
        sandbox = record.sandbox if record is not None else None
        if run_pre_stop and hook and state.status is Status.RUNNING:
            failure = await self.helpers.run_hook(
                hook,
                container_id=state.container_id,
                netns_path=sandbox.netns_path if sandbox is not None else None,
                pod_ip=sandbox.ip if sandbox is not None else self.options.node_ip,
                timeout=grace,
                pod=pod,
                container=container,
            )
            if failure is not None:
                self._event(pod, "FailedPreStopHook", failure, WARNING)
        self.prober.forget(state.container_id)
        if record is not None:
            record.probed.discard(state.container_id)
        if state.status is not Status.EXITED:
            await self.runtime.stop(state.container_id, max(0.0, grace - (time.monotonic() - began)))

    async def _deadline_exceeded(self, pod: JSON, record: PodRecord) -> None:
        self._event(pod, "DeadlineExceeded", DEADLINE_MESSAGE)
        await self._fail(pod, record, "DeadlineExceeded", DEADLINE_MESSAGE)

    async def _over_size_limit(self, pod: JSON) -> str | None:
        """The eviction manager's local-storage check: an emptyDir on disk past its sizeLimit."""
        for volume in (pod.get("spec") or {}).get("volumes") or ():
            empty_dir = volume.get("emptyDir")
            if empty_dir is None or not empty_dir.get("sizeLimit") or empty_dir.get("medium") == "Memory":
                continue  # a tmpfs is bounded by its own size
            used = await self.volumes.disk_usage(pod["metadata"]["uid"], volume["name"])
            limit = str(empty_dir["sizeLimit"])
            if used > parse(limit).value:
                return f'Usage of EmptyDir volume "{volume["name"]}" exceeds the limit "{limit}". '
        return None

    async def _evict(self, pod: JSON, record: PodRecord, message: str) -> None:
        self._event(pod, "Evicted", message, "Warning")
        await self._fail(pod, record, "Evicted", message)

    async def _fail(self, pod: JSON, record: PodRecord, reason: str, message: str) -> None:
        """The node ends the pod: containers stopped, phase Failed with the reason and message."""
        record.terminal = ("Failed", reason, message)
        await self._stop_all(pod, grace_period(pod))
        await write_status(
            self.client, self.options, pod, record, await self._states(record.uid), sandbox_ready=False
        )
        await self._stop_sandbox(pod, record)

    async def _stop_all(self, pod: JSON, grace: float) -> None:
        spec = pod.get("spec") or {}
        containers = {
            c["name"]: c for c in (*(spec.get("initContainers") or ()), *(spec.get("containers") or ()))
        }
        running = [s for s in await self._states(pod["metadata"]["uid"]) if s.status is not Status.EXITED]
        for state in running:
            self._event(pod, "Killing", f"Stopping container {state.name}")
        await asyncio.gather(*(self._stop_container(pod, containers.get(s.name), s, grace) for s in running))

    async def _stop_sandbox(self, pod: JSON, record: PodRecord) -> None:
        """A finished pod keeps its exited containers (logs) and volumes until deleted, not its network."""
        await self._stop_all(pod, grace_period(pod))
        if record.sandbox is not None:
            await self.network.teardown(record.uid)
            record.sandbox = None

    async def _prune(self, states: list[ContainerState]) -> None:
        """Keep the current run of each container and `keep_exited` runs before it."""
        for runs in by_name(states).values():
            for state in runs[: -1 - self.options.keep_exited]:
                if state.status is Status.EXITED:
                    await self.runtime.remove(state.container_id)

    # ---- going away ------------------------------------------------------------------------------------

    async def terminate(self, pod: JSON) -> None:
        """Graceful deletion: preStop hooks, stop with the grace period, tear everything down, then confirm
        the deletion to the API server (zero grace, uid precondition) so the object goes away."""
        meta = pod["metadata"]
        await self._stop_all(pod, grace_period(pod))
        await self.cleanup(meta["uid"], grace=0)
        with contextlib.suppress(errors.NotFound, errors.Conflict):
            await self.client.delete(
                PODS,
                meta["name"],
                namespace=meta["namespace"],
                grace_period_seconds=0,
                precondition_uid=meta["uid"],
            )

    async def cleanup(self, uid: str, *, grace: float) -> None:
        """Remove everything the node holds for a pod: containers, volumes, sandbox, cgroup, files."""
        for state in await self._states(uid):
            self.prober.forget(state.container_id)
            if state.status is not Status.EXITED:
                await self.runtime.stop(state.container_id, grace)
            await self.runtime.remove(state.container_id)
        await self.volumes.teardown(uid)
        await self.network.teardown(uid)
        await self.runtime.remove_pod_cgroup(uid)
        await asyncio.to_thread(self._remove_files, uid)
        self.records.pop(uid, None)
        self.crash_backoff.forget_prefix(f"{uid}/")
        self.puller.backoff.forget_prefix(f"{uid}/")

    def _remove_files(self, uid: str) -> None:
        pod_dir = self.paths.pod(uid)
        for _, name in POD_FILES:
            with contextlib.suppress(FileNotFoundError):
                (pod_dir / name).unlink()
        with contextlib.suppress(OSError):
            pod_dir.rmdir()  # only when empty: never recurse through what volumes may have left mounted
        for log_dir in self.paths.logs.glob(f"*_{uid}"):
            shutil.rmtree(log_dir, ignore_errors=True)
