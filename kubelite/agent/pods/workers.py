"""The pod loop: watches this node's pods and keeps each one converged, one sync per pod at a time.

A pod's key is queued on every watch event, when one of its containers changes state (the runtime is polled
every `poll_seconds`, which only reads the monitors' files), when a probe's verdict changes, when a back-off
or deadline ends, and every `resync_seconds`. On start, containers and sandboxes of pods still bound here are
adopted as they are; whatever belongs to pods the API no longer has is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kubelite.agent.pods.probes import ProbeKey, ProbeKind, ProbeResult, restart_message
from kubelite.agent.pods.sync import PodSyncer
from kubelite.agent.pods.types import JSON
from kubelite.agent.runtime import cgroups
from kubelite.agent.runtime.types import Status
from kubelite.client import paths
from kubelite.client.cache import Snapshot, object_key
from kubelite.client.controller import Controller, RequeueAfter
from kubelite.client.frozen import thaw
from kubelite.client.informer import InformerFactory

log = logging.getLogger(__name__)

PODS = paths.resource("", "v1", "pods")


class PodWorkers:
    def __init__(self, informers: InformerFactory, syncer: PodSyncer, *, node_name: str) -> None:
        """`syncer` does the work on one pod; this loop decides when, and for which pods."""
        self.syncer = syncer
        self._pods = informers.informer(PODS, field_selector=f"spec.nodeName={node_name}")
        self.controller = Controller("pods", self.reconcile, workers=syncer.options.workers)
        self.controller.watch(self._pods)
        self._keys: dict[str, str] = {}  # pod uid -> key, for pods this loop has synced
        self._seen: dict[str, tuple[Status, int | None]] = {}  # container id -> last polled (status, exit)
        self._terminating: dict[str, asyncio.Task[None]] = {}  # pod uid -> its termination
        self._group: asyncio.TaskGroup | None = None

    async def run(self) -> None:
        """Until cancelled (the caller runs the informer factory)."""
        await self._pods.synced.wait()
        await self.adopt()
        async with asyncio.TaskGroup() as group:
            self._group = group
            group.create_task(self.controller.run(), name="pod workers")
            group.create_task(self._poll(), name="pod container poller")

    def _begin_termination(self, key: str, pod: JSON) -> None:
        """Terminate in a task of its own: a grace period must not hold a sync worker, or deleting many
        pods at once would take (pods / workers) x grace instead of one grace period."""
        uid = pod["metadata"]["uid"]
        if uid not in self._terminating and self._group is not None:
            termination = self._terminate(key, pod)
            self._terminating[uid] = self._group.create_task(termination, name=f"terminate {key}")

    async def _terminate(self, key: str, pod: JSON) -> None:
        uid = pod["metadata"]["uid"]
        try:
            await self.syncer.terminate(pod)
            self._keys.pop(uid, None)
        except Exception:
            log.exception("terminating pod %s failed; retrying", key)
            self.controller.queue.add_rate_limited(key)
        finally:
            self._terminating.pop(uid, None)

    def _pod(self, key: str) -> JSON | None:
        snapshot = self._pods.cache.get(key)
        return thaw(snapshot) if snapshot is not None else None

    async def reconcile(self, key: str) -> None:
        pod = self._pod(key)
        uid = pod["metadata"]["uid"] if pod is not None else None
        for old_uid, old_key in list(self._keys.items()):
            if old_key == key and old_uid != uid:  # gone from the API, or replaced by a pod of the same name
                await self.syncer.cleanup(old_uid, grace=self.syncer.options.orphan_grace_seconds)
                del self._keys[old_uid]
        if pod is None or uid is None:
            return
        self._keys[uid] = key
        if pod["metadata"].get("deletionTimestamp"):
            self._begin_termination(key, pod)
            return
        delay = await self.syncer.sync(pod)
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return
        resync = self.syncer.options.resync_seconds
        raise RequeueAfter(min(delay, resync) if delay else resync)

    async def adopt(self) -> None:
        """Keep what belongs to pods still bound here; remove the rest (containers, sandboxes, volumes,
        cgroups) of pods the API no longer has."""
        bound = {snapshot["metadata"]["uid"]: object_key(snapshot) for snapshot in self._pods.cache.list()}
        self._keys.update(bound)
        states = await self.syncer.runtime.list()
        sandboxes = await self.syncer.network.sandboxes()
        for sandbox in sandboxes:
            if sandbox.pod_uid in bound:
                pod = self._pod(bound[sandbox.pod_uid])
                if pod is not None:
                    self.syncer.adopt_sandbox(pod, sandbox)
        leftovers = {s.pod_uid for s in states} | {s.pod_uid for s in sandboxes}
        leftovers |= set(self.syncer.volumes.pods_on_disk()) | set(await asyncio.to_thread(self._pod_cgroups))
        for uid in sorted(leftovers - set(bound)):
            log.info("removing leftovers of pod %s, which is no longer bound here", uid)
            try:
                await self.syncer.cleanup(uid, grace=0)
            except Exception:  # one pod's leftovers must not keep the node from running the others
                log.exception("cannot remove the leftovers of pod %s; they stay on the node", uid)
        for state in states:
            self._seen[state.container_id] = (state.status, state.exit_code)

    def _pod_cgroups(self) -> list[str]:
        uids: set[str] = set()
        for hierarchy in cgroups.v1_hierarchies():
            parent = hierarchy / self.syncer.paths.cgroup_root.lstrip("/")
            with contextlib.suppress(OSError):
                uids.update(p.name[3:] for p in parent.iterdir() if p.is_dir() and p.name.startswith("pod"))
        return sorted(uids)

    async def _poll(self) -> None:
        """Queue the pods whose containers changed state since the last look."""
        while True:
            await asyncio.sleep(self.syncer.options.poll_seconds)
            try:
                states = await self.syncer.runtime.list()
            except Exception:  # the next round tries again; the loop must outlive a bad read
                log.exception("cannot list containers")
                continue
            seen = {s.container_id: (s.status, s.exit_code) for s in states}
            for state in states:
                if self._seen.get(state.container_id) != seen[state.container_id]:
                    self._enqueue(state.pod_uid)
            self._seen = seen

    def _enqueue(self, uid: str) -> None:
        key = self._keys.get(uid)
        if key is not None:
            self.controller.queue.add(key)

    def probe_result(self, key: ProbeKey, result: ProbeResult) -> None:
        """The Prober's on_result: remember the verdict, emit its event, and sync the pod."""
        record = self.syncer.records.get(key.pod_uid)
        pod_key = self._keys.get(key.pod_uid)
        pod: Snapshot | None = self._pods.cache.get(pod_key) if pod_key else None
        if record is None or pod is None:
            return
        if result.event_reason:
            self.syncer.recorder.record(
                pod, reason=result.event_reason, message=result.event_message, event_type="Warning"
            )
        if not result.changed:
            return
        cid = result.container_id
        if key.kind is ProbeKind.READINESS:
            record.ready[cid] = result.healthy is True
        elif result.healthy is False:  # liveness or startup failed: restart it
            record.liveness_failed[cid] = restart_message(key.kind, key.container_name)
        elif key.kind is ProbeKind.STARTUP:
            record.started[cid] = result.healthy is True
        self._enqueue(key.pod_uid)
