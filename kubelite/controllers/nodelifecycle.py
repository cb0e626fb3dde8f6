"""Node lifecycle: notices nodes that stopped reporting, taints them, and evicts the pods they cannot keep.

A node proves it is alive by renewing its Lease in kube-node-lease (or posting its status). One silent for
node_monitor_grace_period gets Ready=Unknown ("Kubelet stopped posting node status."), its pods are marked
not ready, and the node is tainted as the Ready condition says: Unknown → node.kubernetes.io/unreachable,
False → node.kubernetes.io/not-ready, each NoSchedule (nothing new lands there) and NoExecute (what runs
there is evicted); Ready=True, posted by a recovered kubelet, lifts the taints.

Eviction honours tolerations: a pod that does not tolerate a NoExecute taint is deleted at once, one that
tolerates it for tolerationSeconds that long after the taint's timeAdded. Upstream's DefaultTolerationSeconds
admission gives every pod a 300 s toleration of the not-ready/unreachable taints; pods without one are
treated here as if they had it, for ManagerConfig.pod_eviction_timeout seconds.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubelite.api.nodeaffinity import toleration_matches
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot, by_node_name
from kubelite.client.controller import Controller, RequeueAfter
from kubelite.client.frozen import thaw
from kubelite.client.rest import JSON
from kubelite.controllers.context import ControllerContext

log = logging.getLogger(__name__)

NODES = paths.resource("", "v1", "nodes")
PODS = paths.resource("", "v1", "pods")
LEASES = paths.resource("coordination.k8s.io", "v1", "leases")
LEASE_NAMESPACE = "kube-node-lease"
NODE_INDEX = "node"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
NO_SCHEDULE, NO_EXECUTE = "NoSchedule", "NoExecute"
_MANAGED_TAINTS = {(key, effect) for key in (UNREACHABLE, NOT_READY) for effect in (NO_SCHEDULE, NO_EXECUTE)}
_KUBELET_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def _format(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def ready_status(node: Mapping[str, Any]) -> str | None:
    for condition in (node.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return str(condition.get("status"))
    return None


def wanted_taints(ready: str | None) -> set[tuple[str, str]]:
    key = {"Unknown": UNREACHABLE, "False": NOT_READY}.get(ready or "")
    return {(key, NO_SCHEDULE), (key, NO_EXECUTE)} if key else set()


def toleration_seconds(pod: Mapping[str, Any], taint: Mapping[str, Any], default: float) -> float | None:
    """How long `pod` may stay on a node with `taint`: 0 = not at all, None = for ever."""
    matching = [t for t in (pod.get("spec") or {}).get("tolerations") or () if toleration_matches(t, taint)]
    if not matching:
        return default if taint.get("key") in (UNREACHABLE, NOT_READY) else 0.0
    limits = [float(t["tolerationSeconds"]) for t in matching if t.get("tolerationSeconds") is not None]
    return max(min(limits), 0.0) if limits else None


class NodeLifecycleController:
    def __init__(self, ctx: ControllerContext, *, clock: Callable[[], float] = time.time) -> None:
        self.client = ctx.client
        self.config = ctx.config
        self.clock = clock
        self.recorder = ctx.recorder("node-controller")
        self.eviction_recorder = ctx.recorder("taint-eviction-controller")
        self.nodes = ctx.informers.informer(NODES)
        self.leases = ctx.informers.informer(LEASES, namespace=LEASE_NAMESPACE)
        self.pods = ctx.informers.informer(PODS)
        self.pods.add_indexers({NODE_INDEX: by_node_name})
        # node -> (the last heartbeat seen, when this controller saw it change)
        self.heartbeats: dict[str, tuple[tuple[str, ...], float]] = {}
        self.controller = Controller("nodelifecycle", self.reconcile, workers=2)
        self.controller.watch(self.nodes)
        self.controller.watch(self.leases, keys=lambda lease: (str(lease["metadata"]["name"]),))
        self.controller.watch(self.pods, keys=by_node_name)

    async def run(self) -> None:
        await self.controller.run()

    def heartbeat(self, node: Snapshot) -> tuple[str, ...]:
        name = str(node["metadata"]["name"])
        lease = self.leases.cache.get_by_name(name, namespace=LEASE_NAMESPACE)
        renewed = str(((lease or {}).get("spec") or {}).get("renewTime") or "")
        posted = [
            str(c.get("lastHeartbeatTime") or "")
            for c in (node.get("status") or {}).get("conditions") or ()
            if c.get("type") == "Ready"
        ]
        return (renewed, *posted)

    async def reconcile(self, key: str) -> None:
        node = self.nodes.cache.get(key)
        if node is None:
            self.heartbeats.pop(key, None)
            return
        now = self.clock()
        beat = self.heartbeat(node)
        seen = self.heartbeats.get(key)
        if seen is None or seen[0] != beat:
            seen = self.heartbeats[key] = (beat, now)  # the grace period starts when we first look, too
        silent_for = now - seen[1]
        grace = self.config.node_monitor_grace_period
        waits = [grace - silent_for] if silent_for < grace else []
        if silent_for >= grace:
            node = await self.mark_unknown(node)
        node = await self.sync_taints(node)
        waits += await self.evict(node)
        if waits:
            raise RequeueAfter(max(min(waits), 0.1))

    async def mark_unknown(self, node: Snapshot) -> Snapshot:
        """Set the kubelet's conditions Unknown (once) and mark its pods not ready."""
        if ready_status(node) == "Unknown":
            return node
        updated = thaw(node)
        now = _format(self.clock())
        conditions: list[JSON] = updated.setdefault("status", {}).setdefault("conditions", [])
        for condition in conditions:
            if condition.get("type") in _KUBELET_CONDITIONS and condition.get("status") != "Unknown":
                condition.update(
                    status="Unknown",
                    reason="NodeStatusUnknown",
                    message="Kubelet stopped posting node status.",
                    lastTransitionTime=now,
                )
        if ready_status(updated) is None:
            created = updated["metadata"].get("creationTimestamp") or now
            conditions.append(
                {
                    "type": "Ready",
                    "status": "Unknown",
                    "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                    "lastHeartbeatTime": created,
                    "lastTransitionTime": now,
                }
            )
        name = str(node["metadata"]["name"])
        log.info("node %s stopped posting status: Ready=Unknown", name)
        stored = await self.client.update(NODES, updated, subresource="status")
        message = f"Node {name} status is now: NodeNotReady"
        self.recorder.record(stored, reason="NodeNotReady", message=message)
        for pod in self.pods.cache.by_index(NODE_INDEX, name):
            await self.mark_pod_not_ready(pod, now)
        return stored

    async def mark_pod_not_ready(self, pod: Snapshot, now: str) -> None:
        conditions = (pod.get("status") or {}).get("conditions") or ()
        if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            return
        updated = thaw(pod)
        for condition in updated["status"]["conditions"]:
            if condition.get("type") == "Ready":
                condition.update(status="False", lastTransitionTime=now)
        try:
            await self.client.update(PODS, updated, subresource="status")
        except (errors.NotFound, errors.Conflict):
            pass  # gone, or its kubelet is back: nothing to mark

    async def sync_taints(self, node: Snapshot) -> Snapshot:
        wanted = wanted_taints(ready_status(node))
        taints = list((node.get("spec") or {}).get("taints") or ())
        kept = [t for t in taints if (t.get("key"), t.get("effect")) not in _MANAGED_TAINTS - wanted]
        present = {(t.get("key"), t.get("effect")) for t in kept}
        added = []
        for key, effect in sorted(wanted - present):
            taint: JSON = {"key": key, "effect": effect}
            if effect == NO_EXECUTE:
                taint["timeAdded"] = _format(self.clock())
            added.append(taint)
        if not added and len(kept) == len(taints):
            return node
        updated = thaw(node)
        updated.setdefault("spec", {})["taints"] = thaw(kept) + added
        if not updated["spec"]["taints"]:
            del updated["spec"]["taints"]
        return await self.client.update(NODES, updated)

    async def evict(self, node: Snapshot) -> list[float]:
        """Delete the pods whose tolerations ran out; return the seconds until the next one does."""
        taints = [t for t in (node.get("spec") or {}).get("taints") or () if t.get("effect") == NO_EXECUTE]
        if not taints:
            return []
        now = self.clock()
        waits = []
        for pod in self.pods.cache.by_index(NODE_INDEX, str(node["metadata"]["name"])):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            deadline = self.eviction_deadline(pod, taints, now)
            if deadline is None:
                continue
            if deadline > now:
                waits.append(deadline - now)
                continue
            await self.delete_pod(pod)
        return waits

    def eviction_deadline(
        self, pod: Snapshot, taints: Iterable[Mapping[str, Any]], now: float
    ) -> float | None:
        deadlines = []
        for taint in taints:
            seconds = toleration_seconds(pod, taint, self.config.pod_eviction_timeout)
            if seconds is not None:
                deadlines.append((_parse(taint.get("timeAdded")) or now) + seconds)
        return min(deadlines) if deadlines else None

    async def delete_pod(self, pod: Snapshot) -> None:
        meta = pod["metadata"]
        log.info("evicting pod %s/%s from its tainted node", meta["namespace"], meta["name"])
        message = f"Marking for deletion Pod {meta['namespace']}/{meta['name']}"
        self.eviction_recorder.record(pod, reason="TaintManagerEviction", message=message)
        try:
            await self.client.delete(
                PODS, meta["name"], namespace=meta["namespace"], precondition_uid=meta["uid"]
            )
        except (errors.NotFound, errors.Conflict):
            pass  # gone already, or replaced by a namesake that is not ours to judge


def new_controller(ctx: ControllerContext) -> NodeLifecycleController:
    return NodeLifecycleController(ctx)
