"""Test doubles of the pod loop's collaborators: an in-memory runtime, network, volumes, images, prober."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from kubelite.agent.images.registry import RegistryUnreachable
from kubelite.agent.images.store import ImageRecord, PullPolicy
from kubelite.agent.network.types import PortMapping, Sandbox
from kubelite.agent.paths import NodePaths
from kubelite.agent.pods.environment import Environment
from kubelite.agent.pods.sync import PodSyncer
from kubelite.agent.pods.types import JSON, PodHelpers, PodOptions
from kubelite.agent.runtime.types import ContainerSpec, ContainerState, Mount, Status
from kubelite.client.events import EventRecorder
from kubelite.client.rest import RestClient


@dataclass(frozen=True)
class ConfigDouble:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ("sh",)
    env: tuple[str, ...] = ("PATH=/bin",)
    working_dir: str = ""
    user: str = ""


class RuntimeDouble:
    def __init__(self) -> None:
        self.containers: dict[str, ContainerState] = {}
        self.specs: dict[str, ContainerSpec] = {}
        self.calls: list[tuple[str, str]] = []
        self.config = ConfigDouble()

    async def create_and_start(self, spec: ContainerSpec) -> ContainerState:
        now = time.time()
        state = ContainerState(
            spec.container_id,
            spec.pod_uid,
            spec.pod_namespace,
            spec.pod_name,
            spec.name,
            spec.attempt,
            Status.RUNNING,
            spec.image.reference,
            spec.image.image_id,
            now,
            started_at=now,
            pid=1,
        )
        self.containers[spec.container_id] = state
        self.specs[spec.container_id] = spec
        self.calls.append(("start", spec.container_id))
        return state

    def exit(self, container_id: str, code: int, *, finished_at: float | None = None) -> None:
        state = self.containers[container_id]
        self.containers[container_id] = replace(
            state, status=Status.EXITED, exit_code=code, finished_at=finished_at or time.time()
        )

    async def list(self, pod_uid: str | None = None) -> list[ContainerState]:
        return [s for s in self.containers.values() if pod_uid in (None, s.pod_uid)]

    async def state(self, container_id: str) -> ContainerState | None:
        return self.containers.get(container_id)

    async def stop(self, container_id: str, grace_seconds: float) -> None:
        self.calls.append(("stop", container_id))
        if self.containers[container_id].status is not Status.EXITED:
            self.exit(container_id, 137)

    async def remove(self, container_id: str) -> None:
        self.calls.append(("remove", container_id))
        self.containers.pop(container_id, None)

    def exec_command(
        self, container_id: str, argv: list[str], *, tty: bool, env: dict[str, str]
    ) -> list[str]:
        return argv

    def image_config(self, image: ImageRecord) -> ConfigDouble:
        return self.config

    async def remove_pod_cgroup(self, pod_uid: str) -> None:
        self.calls.append(("remove_pod_cgroup", pod_uid))


class NetworkDouble:
    def __init__(self) -> None:
        self.sandboxes_: dict[str, Sandbox] = {}
        self.ports: dict[str, list[PortMapping]] = {}
        self.calls: list[tuple[str, str]] = []

    async def setup(self, pod_uid: str, namespace: str, name: str, ports: list[PortMapping]) -> Sandbox:
        self.calls.append(("setup", pod_uid))
        self.ports[pod_uid] = ports
        sandbox = Sandbox(pod_uid, f"/run/netns/kl-{pod_uid}", f"10.42.0.{len(self.sandboxes_) + 2}")
        return self.sandboxes_.setdefault(pod_uid, sandbox)

    async def teardown(self, pod_uid: str) -> None:
        self.calls.append(("teardown", pod_uid))
        self.sandboxes_.pop(pod_uid, None)

    async def sandboxes(self) -> list[Sandbox]:
        return list(self.sandboxes_.values())


class VolumesDouble:
    def __init__(self) -> None:
        self.on_disk: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.usage: dict[tuple[str, str], int] = {}  # (pod uid, emptyDir name) -> bytes

    async def setup(self, pod: JSON) -> None:
        self.calls.append(("setup", pod["metadata"]["uid"]))
        self.on_disk.add(pod["metadata"]["uid"])

    def container_mounts(self, pod: JSON, container: JSON) -> list[Mount]:
        return [Mount(m["mountPath"], f"/vol/{m['name']}") for m in container.get("volumeMounts") or ()]

    async def refresh(self, pod: JSON) -> None:
        self.calls.append(("refresh", pod["metadata"]["uid"]))

    async def teardown(self, pod_uid: str) -> None:
        self.calls.append(("teardown", pod_uid))
        self.on_disk.discard(pod_uid)

    async def disk_usage(self, pod_uid: str, volume: str) -> int:
        return self.usage.get((pod_uid, volume), 0)

    def pods_on_disk(self) -> list[str]:
        return sorted(self.on_disk)


def record_for(ref: str) -> ImageRecord:
    return ImageRecord(ref, "sha256:m", "sha256:c-" + ref, (), 1234)


class ImagesDouble:
    def __init__(self, present: tuple[str, ...] = ()) -> None:
        self.present = {ref: record_for(ref) for ref in present}
        self.pulls: list[tuple[str, PullPolicy]] = []
        self.fail: Exception | None = None

    def get(self, ref: str) -> ImageRecord | None:
        return self.present.get(ref)

    async def pull(self, ref: str, policy: PullPolicy = PullPolicy.IF_NOT_PRESENT) -> ImageRecord:
        self.pulls.append((ref, policy))
        if self.fail is not None:
            raise self.fail
        record = self.present[ref] = record_for(ref)
        return record


UNREACHABLE = RegistryUnreachable("dial tcp 127.0.0.1:1: connect: connection refused")


class ProberDouble:
    def __init__(self) -> None:
        self.watched: dict[str, str] = {}
        self.forgotten: list[str] = []

    def update(
        self,
        pod: JSON,
        container_name: str,
        container_id: str,
        netns_path: str | None,
        pod_ip: str,
        started_at: float,
    ) -> None:
        self.watched[container_id] = container_name

    def forget(self, container_id: str) -> None:
        self.watched.pop(container_id, None)
        self.forgotten.append(container_id)


class RecordingRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def record(self, obj: Any, *, reason: str, message: str, event_type: str = "Normal") -> None:
        self.events.append((event_type, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]


class RecordingClient:
    def __init__(self) -> None:
        self.patches: list[JSON] = []
        self.deletes: list[tuple[str, JSON]] = []

    async def patch(self, res: Any, name: str, body: JSON, **kwargs: Any) -> JSON:
        self.patches.append(body["status"])
        return body

    async def delete(self, res: Any, name: str, **kwargs: Any) -> JSON:
        self.deletes.append((name, kwargs))
        return {}


@dataclass
class Harness:
    syncer: PodSyncer
    runtime: RuntimeDouble
    network: NetworkDouble
    volumes: VolumesDouble
    images: ImagesDouble
    prober: ProberDouble
    recorder: RecordingRecorder
    client: RecordingClient
    hooks: list[tuple[str, str]] = field(default_factory=list)
    env: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status(self) -> JSON:
        return self.client.patches[-1]


def harness(tmp_path: Path, **options: Any) -> Harness:
    runtime, network, volumes = RuntimeDouble(), NetworkDouble(), VolumesDouble()
    images, prober, recorder, client = ImagesDouble(), ProberDouble(), RecordingRecorder(), RecordingClient()
    hooks: list[tuple[str, str]] = []
    env: list[tuple[str, str]] = []

    async def build_env(pod: JSON, container: JSON) -> Environment:
        return Environment([*env, *((e["name"], e["value"]) for e in container.get("env") or ())])

    async def write_pod_files(pod: JSON, ip: str) -> None:
        hooks.append(("files", ip))

    async def run_hook(
        handler: JSON,
        *,
        container_id: str,
        netns_path: str | None,
        pod_ip: str,
        timeout: float,  # noqa: ASYNC109 - the HookRunner signature
        pod: JSON | None = None,
        container: JSON | None = None,
    ) -> str | None:
        hooks.append(("hook", container_id))
        return handler.get("fail")

    syncer = PodSyncer(
        cast(RestClient, client),
        paths=NodePaths(tmp_path, "node-a"),
        runtime=runtime,
        network=network,
        volumes=volumes,
        images=images,
        prober=prober,
        recorder=cast(EventRecorder, recorder),
        options=PodOptions(node_ip="192.0.2.10", **options),
        helpers=PodHelpers(build_env=build_env, write_pod_files=write_pod_files, run_hook=run_hook),
    )
    return Harness(syncer, runtime, network, volumes, images, prober, recorder, client, hooks, env)


def make_pod(*containers: JSON, init: tuple[JSON, ...] = (), uid: str = "u1", **spec: Any) -> JSON:
    body: JSON = {"containers": list(containers), **spec}
    if init:
        body["initContainers"] = list(init)
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": uid},
        "spec": body,
        "status": {
            "phase": "Pending",
            "qosClass": "BestEffort",
            "conditions": [{"type": "PodScheduled", "status": "True"}],
        },
    }


def container(name: str = "app", image: str = "busybox:1.36", **fields: Any) -> JSON:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", **fields}
