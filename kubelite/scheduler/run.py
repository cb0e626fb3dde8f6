"""The scheduler process: informers feed the cache and the queue; one loop decides, many binds fly at once.

Decisions are made one at a time on the event loop (the cache cannot change under a decision), and each
chosen node is booked at once (the pod is *assumed* there), so the next decision already sees it. Binding
(POST pods/{name}/binding) then runs concurrently, up to `bind_concurrency` at a time. A pod that fits
nowhere gets PodScheduled=False/Unschedulable and a FailedScheduling event, and waits in the queue for a
cluster change. Only one scheduler acts at a time: leader election on the Lease kube-system/kube-scheduler.

    await run(SchedulerConfig(kubeconfig=Path(".../kubeconfig")))   # until cancelled or leadership is lost
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot
from kubelite.client.events import WARNING, EventRecorder
from kubelite.client.informer import InformerFactory
from kubelite.client.leaderelection import LeaderElector, LeaseLock
from kubelite.client.rest import PatchType, RestClient
from kubelite.scheduler.cycle import Algorithm
from kubelite.scheduler.nodeinfo import TERMINAL_PHASES, ClusterState, NodeInfo, pod_key
from kubelite.scheduler.queue import SchedulingQueue
from kubelite.scheduler.volumebinding import CLASSES, VolumeBinding

log = logging.getLogger(__name__)

PODS = paths.resource("", "v1", "pods")
NODES = paths.resource("", "v1", "nodes")
PVCS = paths.resource("", "v1", "persistentvolumeclaims")
PVS = paths.resource("", "v1", "persistentvolumes")
LEASE_NAMESPACE, LEASE_NAME = "kube-system", "kube-scheduler"


@dataclass(frozen=True)
class SchedulerConfig:
    kubeconfig: Path
    scheduler_name: str = "default-scheduler"
    leader_elect: bool = True
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4()}")
    bind_concurrency: int = 32
    unschedulable_flush_interval: float = 30.0  # retry unschedulable pods at least this often


def _node_shape(info: NodeInfo) -> tuple[Any, ...]:
    """What of a node can change a decision (heartbeats alone do not)."""
    return (info.labels, info.allocatable, info.taints, info.ready, info.unschedulable)


class Scheduler:
    def __init__(self, client: RestClient, config: SchedulerConfig) -> None:
        self.client = client
        self.config = config
        self.state = ClusterState()
        self.algorithm = Algorithm(self.state)
        self.queue = SchedulingQueue()
        self.recorder = EventRecorder(client, component=config.scheduler_name, max_pending=10000)
        self.informers = InformerFactory(client, drop_managed_fields=True)
        self.bound = 0  # pods bound so far (for benchmarks and logs)
        self._binds = asyncio.Semaphore(config.bind_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._pods = self.informers.informer(PODS)
        self._nodes = self.informers.informer(NODES)
        self._claims = self.informers.informer(PVCS)
        self._volumes = self.informers.informer(PVS)
        self._classes = self.informers.informer(CLASSES)
        self.volume_binding = VolumeBinding(self._claims, self._volumes, self._classes)

    def _wire(self) -> None:
        self._nodes.add_handlers(
            on_add=self._node_changed, on_update=self._node_updated, on_delete=self._node_gone
        )
        self._pods.add_handlers(
            on_add=self._pod_seen, on_update=lambda _, new: self._pod_seen(new), on_delete=self._pod_gone
        )
        for informer in (self._claims, self._volumes, self._classes):
            informer.add_handlers(
                on_add=self._storage_changed,
                on_update=lambda _, __: self._storage_changed(None),
                on_delete=self._storage_changed,
            )

    # Informer handlers: keep the cache and the queue current; never block.

    def _node_changed(self, node: Snapshot) -> None:
        self.state.set_node(node)
        self.queue.move_all_to_active()

    def _node_updated(self, _old: Snapshot, node: Snapshot) -> None:
        info = self.state.nodes.get(str(node["metadata"]["name"]))
        before = _node_shape(info) if info is not None and info.node is not None else None
        self.state.set_node(node)
        after = self.state.nodes[str(node["metadata"]["name"])]
        if before != _node_shape(after):
            self.queue.move_all_to_active()

    def _node_gone(self, node: Snapshot) -> None:
        self.state.remove_node(str(node["metadata"]["name"]))

    def _storage_changed(self, _obj: Snapshot | None) -> None:
        self.queue.move_all_to_active()

    def _responsible(self, pod: Snapshot) -> bool:
        spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
        phase = (pod.get("status") or {}).get("phase")
        return (
            spec.get("schedulerName", "default-scheduler") == self.config.scheduler_name
            and not meta.get("deletionTimestamp")
            and phase not in TERMINAL_PHASES
        )

    def _pod_seen(self, pod: Snapshot) -> None:
        key = pod_key(pod)
        if (pod.get("spec") or {}).get("nodeName"):
            was_counted = key in self.state.pod_nodes
            self.queue.remove(key)
            self.state.observe_pod(pod)
            if was_counted and key not in self.state.pod_nodes:  # it finished: room freed
                self.queue.move_all_to_active()
            return
        if key in self.state.assumed:
            return  # decided and binding: the watch has not caught up yet
        if self._responsible(pod):
            self.queue.add(key, pod)
        else:
            self.queue.remove(key)

    def _pod_gone(self, pod: Snapshot) -> None:
        key = pod_key(pod)
        self.queue.remove(key)
        if key in self.state.pod_nodes:
            self.state.remove_pod(key)
            self.queue.move_all_to_active()

    # Deciding

    async def _schedule_forever(self) -> None:
        while True:
            key, pod = await self.queue.pop()
            volumes = self.volume_binding.constraints(pod)
            outcome = self.algorithm.decide(pod, volumes)
            if isinstance(outcome, str):
                self.state.add_pod(pod, outcome, assumed=True)
                await self._binds.acquire()
                self._spawn(self._bind(key, pod, outcome, volumes.waiting_claims))
            else:
                self.queue.unschedulable(key, pod)
                self._spawn(self._report_unschedulable(pod, outcome.message()))
                await asyncio.sleep(0)  # let the watch deliver what might change the next decision

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _bind(
        self, key: str, pod: Mapping[str, Any], node: str, waiting_claims: tuple[tuple[str, str], ...]
    ) -> None:
        meta = pod["metadata"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta.get("uid")},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        try:
            if not await self._pre_bind(waiting_claims, node):
                self.state.remove_pod(key)
                self.queue.back_off(key, pod)
                return
            await self.client.create_subresource(
                PODS, meta["name"], "binding", binding, namespace=meta["namespace"]
            )
        except (errors.NotFound, errors.Conflict) as exc:
            log.info(
                "binding %s to %s: %s", key, node, exc
            )  # gone, or bound by someone else: the watch tells
            self.state.remove_pod(key)
        except errors.ClientError as exc:
            log.warning("binding %s to %s failed: %s", key, node, exc)
            self.state.remove_pod(key)
            self.queue.back_off(key, pod)
        else:
            self.bound += 1
            self.queue.done(key)
            message = f"Successfully assigned {key} to {node}"
            self.recorder.record(pod, reason="Scheduled", message=message)
        finally:
            self._binds.release()

    async def _pre_bind(self, waiting_claims: tuple[tuple[str, str], ...], node: str) -> bool:
        """Tell the pod's waiting claims their node; False (try the pod again later) if that failed."""
        try:
            await self.volume_binding.pre_bind(self.client, waiting_claims, node)
        except errors.ClientError as exc:
            log.warning("selecting node %s for claims %s failed: %s", node, waiting_claims, exc)
            return False
        return True

    async def _report_unschedulable(self, pod: Mapping[str, Any], message: str) -> None:
        self.recorder.record(pod, reason="FailedScheduling", message=message, event_type=WARNING)
        conditions = (pod.get("status") or {}).get("conditions") or ()
        current: Mapping[str, Any] = next((c for c in conditions if c.get("type") == "PodScheduled"), {})
        if current.get("status") == "False" and current.get("message") == message:
            return
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": None,
            "lastTransitionTime": now,
        }
        meta = pod["metadata"]
        try:
            await self.client.patch(
                PODS,
                meta["name"],
                {"status": {"conditions": [condition]}},
                namespace=meta["namespace"],
                subresource="status",
                patch_type=PatchType.STRATEGIC,
            )
        except errors.ClientError as exc:
            log.info("cannot mark %s/%s unschedulable: %s", meta["namespace"], meta["name"], exc)

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.config.unschedulable_flush_interval)
            self.queue.move_all_to_active()

    async def run(self) -> None:
        """Watch, decide and bind until cancelled."""
        self._wire()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.informers.run(), name="scheduler informers")
                group.create_task(self.recorder.run(), name="scheduler events")
                await self.informers.wait_for_sync()
                log.info(
                    "scheduler %s: caches synced, %d nodes", self.config.scheduler_name, len(self.state.order)
                )
                group.create_task(self._flush_periodically(), name="scheduler flush")
                group.create_task(self._schedule_forever(), name="scheduler loop")
        finally:
            for task in list(self._tasks):
                task.cancel()


async def run(config: SchedulerConfig) -> None:
    """The scheduler as a process component: under leader election unless `leader_elect` is off."""
    async with RestClient.from_kubeconfig(
        config.kubeconfig, user_agent="kubelite-scheduler", max_connections=config.bind_concurrency + 16
    ) as client:
        scheduler = Scheduler(client, config)
        if not config.leader_elect:
            await scheduler.run()
            return
        lock = LeaseLock(client, namespace=LEASE_NAMESPACE, name=LEASE_NAME)
        await LeaderElector(lock, identity=config.identity).run(scheduler.run)
