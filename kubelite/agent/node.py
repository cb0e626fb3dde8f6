"""The node's registration and heartbeat: the Node object, its status from the host, and its Lease.

As the kubelet does: the Lease in kube-node-lease is renewed every 10 s (what the node lifecycle controller
watches); the status is recomputed every 10 s and posted only when it changed or 5 minutes have passed.
Conditions keep their lastTransitionTime while their status stays the same. Allocatable is capacity minus
the reservations and upstream's default hard eviction thresholds (memory 100Mi, nodefs 10%).

The pod range is assigned by the node IPAM controller into spec.podCIDR; `wait_for_pod_cidr` reads it back.
NodeLease is shared with the fake agent (kubelite.agent.fake).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from kubelite.agent.hostinfo import MEMORY_EVICTION, NODEFS_EVICTION, HostFacts, read_host
from kubelite.agent.images.store import ImageRecord
from kubelite.api import quantity
from kubelite.api.version import KUBELET_VERSION
from kubelite.client import errors, paths
from kubelite.client.leaderelection import micro_time
from kubelite.client.rest import JSON, RestClient

log = logging.getLogger(__name__)

NODES = paths.resource("", "v1", "nodes")
LEASES = paths.resource("coordination.k8s.io", "v1", "leases")
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40  # seconds; the node lifecycle controller's grace period
MAX_IMAGES = 50  # upstream's nodeStatusMaxImages

# (type, reason and message when False, when True); Ready is the other way round.
_PRESSURES = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
     "KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
     "KubeletHasDiskPressure", "kubelet has disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available",
     "KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
)  # fmt: skip


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_conditions(
    previous: Sequence[Mapping[str, Any]],
    *,
    at: str,
    pressure: Mapping[str, bool] | None = None,
    not_ready: str | None = None,
) -> list[JSON]:
    """MemoryPressure, DiskPressure, PIDPressure and Ready; a condition whose status is unchanged keeps its
    lastTransitionTime from `previous`."""
    before = {c.get("type"): c for c in previous}
    pressure = pressure or {}

    def condition(kind: str, status: bool, reason: str, message: str) -> JSON:
        text = "True" if status else "False"
        old = before.get(kind) or {}
        moved = old.get("status") != text or not old.get("lastTransitionTime")
        return {
            "type": kind,
            "status": text,
            "lastHeartbeatTime": at,
            "lastTransitionTime": at if moved else old["lastTransitionTime"],
            "reason": reason,
            "message": message,
        }

    conditions = []
    for kind, ok_reason, ok_message, bad_reason, bad_message in _PRESSURES:
        on = pressure.get(kind, False)
        conditions.append(
            condition(kind, on, *((bad_reason, bad_message) if on else (ok_reason, ok_message)))
        )
    if not_ready is None:
        conditions.append(condition("Ready", True, "KubeletReady", "kubelet is posting ready status"))
    else:
        conditions.append(condition("Ready", False, "KubeletNotReady", not_ready))
    return conditions


def _format(value: Fraction, notation: str) -> str:
    if notation == quantity.BINARY_SI:  # bytes: whole ones
        value = Fraction(math.floor(value))
    return quantity.canonical(quantity.Quantity(max(value, Fraction(0)), notation))


def capacity_and_allocatable(facts: HostFacts, reserved: Mapping[str, str]) -> tuple[JSON, JSON]:
    """Capacity from the host; allocatable = capacity - reserved - the hard eviction thresholds."""
    capacity = {
        "cpu": Fraction(facts.cpus),
        "memory": Fraction(facts.memory_total),
        "ephemeral-storage": Fraction(facts.disk_total),
        "pods": Fraction(110),
        **{name: Fraction(size) for name, size in facts.hugepages.items()},
    }
    held = {name: quantity.parse(value).value for name, value in reserved.items()}
    held["memory"] = held.get("memory", Fraction(0)) + MEMORY_EVICTION
    held["ephemeral-storage"] = held.get("ephemeral-storage", Fraction(0)) + Fraction(
        facts.disk_total
    ) * Fraction(str(NODEFS_EVICTION))

    def notation(name: str) -> str:
        return quantity.DECIMAL_SI if name in ("cpu", "pods") else quantity.BINARY_SI

    return (
        {name: _format(value, notation(name)) for name, value in capacity.items()},
        {name: _format(value - held.get(name, 0), notation(name)) for name, value in capacity.items()},
    )


def image_list(records: Sequence[ImageRecord]) -> list[JSON]:
    """status.images: one entry per image ID with all its names, largest first, at most MAX_IMAGES."""
    by_id: dict[str, JSON] = {}
    for record in records:
        entry = by_id.setdefault(record.image_id, {"names": [], "sizeBytes": record.size})
        repository = record.reference.rsplit("@", 1)[0]
        if ":" in repository.rsplit("/", 1)[-1]:
            repository = repository.rsplit(":", 1)[0]
        for name in (f"{repository}@{record.manifest_digest}", record.reference):
            if name not in entry["names"]:
                entry["names"].append(name)
    return sorted(by_id.values(), key=lambda e: -int(e["sizeBytes"]))[:MAX_IMAGES]


class ImageLister(Protocol):
    def list(self) -> list[ImageRecord]: ...


class NodeLease:
    """The node's Lease in kube-node-lease, created on first renewal and updated after."""

    def __init__(self, client: RestClient, node_name: str, *, duration: int = LEASE_DURATION) -> None:
        self.client = client
        self.node_name = node_name
        self.duration = duration
        self._version: str | None = None
        self._owner: str | None = None  # the Node's uid, once known

    def _object(self) -> JSON:
        meta: JSON = {"name": self.node_name, "namespace": LEASE_NAMESPACE}
        if self._owner is not None:
            owner = {"apiVersion": "v1", "kind": "Node", "name": self.node_name, "uid": self._owner}
            meta["ownerReferences"] = [owner]
        if self._version is not None:
            meta["resourceVersion"] = self._version
        spec = {
            "holderIdentity": self.node_name,
            "leaseDurationSeconds": self.duration,
            "renewTime": micro_time(datetime.datetime.now(datetime.UTC)),
        }
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}

    async def renew(self, node: JSON | None = None) -> bool:
        """One renewal; False (logged) when it did not happen — the next round tries again."""
        if node is not None:
            self._owner = node["metadata"]["uid"]
        try:
            if self._version is not None:
                lease = await self.client.update(LEASES, self._object())
            else:
                try:
                    lease = await self.client.create(LEASES, self._object())
                except errors.AlreadyExists:
                    current = await self.client.get(LEASES, self.node_name, namespace=LEASE_NAMESPACE)
                    self._version = current["metadata"]["resourceVersion"]
                    lease = await self.client.update(LEASES, self._object())
        except (errors.Conflict, errors.NotFound):
            self._version = None  # someone else wrote it: start over next round
            return False
        except errors.ClientError as exc:
            log.warning("node %s: cannot renew its lease: %s", self.node_name, exc)
            return False
        self._version = lease["metadata"]["resourceVersion"]
        return True


def _without_heartbeats(status: JSON) -> JSON:
    conditions = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"} for c in status["conditions"]]
    return {**status, "conditions": conditions}


class NodeStatusReporter:
    def __init__(
        self,
        client: RestClient,
        *,
        node_name: str,
        node_ip: str,
        data_dir: Path,
        kubelet_port: int = 10250,
        runtime_version: str = "crun://1.8.1",
        labels: Mapping[str, str] | None = None,
        taints: Sequence[Mapping[str, str]] = (),
        reserved: Mapping[str, str] | None = None,
        images: ImageLister | None = None,
        lease_interval: float = 10.0,
        status_interval: float = 10.0,
        report_interval: float = 300.0,
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.node_ip = node_ip
        self.data_dir = data_dir
        self.kubelet_port = kubelet_port
        self.runtime_version = runtime_version
        self.labels = dict(labels or {})
        self.taints = [dict(t) for t in taints]
        self.reserved = dict(reserved or {})
        self.images = images
        self.lease_interval = lease_interval
        self.status_interval = status_interval
        self.report_interval = report_interval
        self.lease = NodeLease(client, node_name)
        self.pod_cidr: str | None = None
        self.not_ready: str | None = None  # set by the agent while it cannot run pods: Ready=False's message
        self._posted: JSON | None = None  # the last status posted, without heartbeat times
        self._posted_at = 0.0
        self._conditions: list[JSON] = []

    def status(self, facts: HostFacts) -> JSON:
        capacity, allocatable = capacity_and_allocatable(facts, self.reserved)
        pressure = {
            "MemoryPressure": facts.memory_pressure,
            "DiskPressure": facts.disk_pressure,
            "PIDPressure": facts.pid_pressure,
        }
        self._conditions = node_conditions(
            self._conditions, at=now(), pressure=pressure, not_ready=self.not_ready
        )
        status: JSON = {
            "capacity": capacity,
            "allocatable": allocatable,
            "conditions": self._conditions,
            "addresses": [
                {"type": "InternalIP", "address": self.node_ip},
                {"type": "Hostname", "address": self.node_name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.kubelet_port}},
            "nodeInfo": {
                "machineID": facts.machine_id,
                "systemUUID": facts.system_uuid or facts.machine_id,
                "bootID": facts.boot_id,
                "kernelVersion": facts.kernel_version,
                "osImage": facts.os_image,
                "containerRuntimeVersion": self.runtime_version,
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": facts.architecture,
            },
        }
        if self.images is not None:
            status["images"] = image_list(self.images.list())
        return status

    def node_object(self, facts: HostFacts) -> JSON:
        labels = {
            "kubernetes.io/hostname": self.node_name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": facts.architecture,
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": facts.architecture,
            **self.labels,
        }
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": labels,
                "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            },
            "spec": {"taints": self.taints} if self.taints else {},
        }

    async def register(self) -> JSON:
        """Create the Node (or take over an existing one: our labels are merged in), post its status, renew
        its Lease; returns the Node as the server has it."""
        facts = await asyncio.to_thread(read_host, self.data_dir)
        wanted = self.node_object(facts)
        try:
            node = await self.client.create(NODES, wanted)
        except errors.AlreadyExists:
            node = await self.client.patch(
                NODES, self.node_name, {"metadata": {"labels": wanted["metadata"]["labels"]}}
            )
        self._conditions = list((node.get("status") or {}).get("conditions") or ())
        await self.post_status(force=True, facts=facts)
        await self.lease.renew(node)
        self.pod_cidr = (node.get("spec") or {}).get("podCIDR") or None
        return node

    async def wait_for_pod_cidr(self, timeout: float, *, poll: float = 0.25) -> str | None:  # noqa: ASYNC109
        """spec.podCIDR once the node IPAM controller has set it; None if it has not within `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.pod_cidr is None:
            node = await self.client.get(NODES, self.node_name)
            self.pod_cidr = (node.get("spec") or {}).get("podCIDR") or None
            if self.pod_cidr is None:
                if loop.time() >= deadline:
                    return None
                await asyncio.sleep(min(poll, max(0.0, deadline - loop.time())))
        return self.pod_cidr

    async def post_status(self, *, force: bool = False, facts: HostFacts | None = None) -> bool:
        """Post the status if it changed, `force` is given, or report_interval has passed; True if posted."""
        if facts is None:
            facts = await asyncio.to_thread(read_host, self.data_dir)
        status = self.status(facts)
        loop = asyncio.get_running_loop()
        comparable = _without_heartbeats(status)
        due = loop.time() - self._posted_at >= self.report_interval
        if not force and not due and comparable == self._posted:
            return False
        await self.client.patch(NODES, self.node_name, {"status": status}, subresource="status")
        self._posted, self._posted_at = comparable, loop.time()
        return True

    async def run(self) -> None:
        """Renew the Lease and keep the status current until cancelled (after `register()`)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._every(self.lease_interval, self.lease.renew), name="node lease")
            group.create_task(self._every(self.status_interval, self._post_quietly), name="node status")

    async def _post_quietly(self) -> bool:
        try:
            return await self.post_status()
        except errors.ClientError as exc:
            log.warning("node %s: cannot post status: %s", self.node_name, exc)
            return False

    @staticmethod
    async def _every(interval: float, action: Callable[[], Awaitable[bool]]) -> None:
        while True:
            await asyncio.sleep(interval)
            await action()
