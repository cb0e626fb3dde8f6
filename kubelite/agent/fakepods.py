"""The kubelet's part for pods on fake nodes: start them at once, let Jobs' pods finish, confirm deletions.

One watch covers the pods of every fake node of the process (`spec.nodeName!=`, filtered to our nodes); a
level-triggered reconcile per pod, run by a bounded number of workers, writes its status:

- bound and not started: Running, with a pod IP (from the node's spec.podCIDR when set, else from a
  per-node /24: 10.42.<i>.0/24 for node i < 256, 10.<64 + i // 256>.<i % 256>.0/24 beyond), startTime,
  running and ready container statuses (containerID/imageID `fake://...`) and every condition True;
- restartPolicy Never or OnFailure (a Job's pod): after `job_duration` seconds (or the pod's annotation
  `kubelite.io/fake-duration`, in seconds) its containers exit with code 0, or with the code in the
  annotation `kubelite.io/fake-exit-code`. Exit 0, or any exit with Never, ends the pod (Succeeded /
  Failed); a non-zero exit with OnFailure restarts the containers (restartCount + 1, waiting twice as long
  each time, up to 5 minutes), as a crash-looping container would;
- deletionTimestamp set: the pod is confirmed gone with a zero-grace delete (the API server removes a bound
  pod only then).
"""

from __future__ import annotations

import datetime
import ipaddress
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot, object_key
from kubelite.client.controller import Controller, RequeueAfter
from kubelite.client.informer import InformerFactory
from kubelite.client.rest import JSON, RestClient

PODS = paths.resource("", "v1", "pods")
NODES = paths.resource("", "v1", "nodes")
EXIT_CODE_ANNOTATION = "kubelite.io/fake-exit-code"
DURATION_ANNOTATION = "kubelite.io/fake-duration"
MAX_RESTART_DELAY = 300.0


@dataclass(frozen=True)
class PodTiming:
    job_duration: float = 1.0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fallback_subnet(index: int) -> ipaddress.IPv4Network:
    if index < 256:
        return ipaddress.IPv4Network(f"10.42.{index}.0/24")
    return ipaddress.IPv4Network(f"10.{64 + index // 256}.{index % 256}.0/24")


def _conditions(*, ready: bool, reason: str | None, now: str) -> list[JSON]:
    out = []
    for kind in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"):
        status = "False" if kind in ("Ready", "ContainersReady") and not ready else "True"
        condition: JSON = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": now}
        if status == "False" and reason:
            condition["reason"] = reason
        out.append(condition)
    return out


def _container_status(
    container: Mapping[str, Any], uid: str, state: JSON, *, ready: bool, restarts: int = 0
) -> JSON:
    name, image = container.get("name", ""), container.get("image", "")
    return {
        "name": name,
        "image": image,
        "imageID": f"fake://{image}",
        "containerID": f"fake://{uid}-{name}",
        "ready": ready,
        "started": "running" in state,
        "restartCount": restarts,
        "state": state,
    }


def _is_job_pod(pod: Snapshot) -> bool:
    return (pod.get("spec") or {}).get("restartPolicy", "Always") in ("Never", "OnFailure")


class FakePods:
    def __init__(
        self,
        client: RestClient,
        informers: InformerFactory,
        *,
        node_names: Sequence[str],
        node_ip: str,
        timing: PodTiming,
        concurrency: int,
    ) -> None:
        self.client = client
        self.node_ip = node_ip
        self.timing = timing
        self._node_index = {name: i for i, name in enumerate(node_names)}
        self._next_ip: dict[str, int] = {}
        self._started: dict[str, str] = {}  # pod key -> uid we started (the watch may lag behind our write)
        self._deadlines: dict[str, float] = {}  # pod key -> when its containers exit
        selector = f"spec.nodeName={node_names[0]}" if len(node_names) == 1 else "spec.nodeName!="
        self._pods = informers.informer(PODS, field_selector=selector)
        self._nodes = informers.informer(NODES)
        self.controller = Controller("fake-pods", self.reconcile, workers=concurrency)
        self.controller.watch(self._pods, keys=self._own_keys)

    def _own_keys(self, pod: Snapshot) -> Iterable[str]:
        if (pod.get("spec") or {}).get("nodeName") in self._node_index:
            yield object_key(pod)

    async def run(self) -> None:
        await self.controller.run()

    def _pod_ip(self, pod: Snapshot, node_name: str) -> str:
        if (pod.get("spec") or {}).get("hostNetwork"):
            return self.node_ip
        node = self._nodes.cache.get(node_name)
        cidr = ((node or {}).get("spec") or {}).get("podCIDR")
        subnet = ipaddress.ip_network(cidr) if cidr else fallback_subnet(self._node_index[node_name])
        usable = subnet.num_addresses - 3  # skip network, gateway (.1) and broadcast
        counter = self._next_ip.get(node_name, 0)
        self._next_ip[node_name] = counter + 1
        return str(subnet.network_address + 2 + counter % max(usable, 1))

    async def reconcile(self, key: str) -> None:
        pod = self._pods.cache.get(key)
        if pod is None:
            self._forget(key)
            return
        spec, meta, status = pod.get("spec") or {}, pod["metadata"], pod.get("status") or {}
        node_name = spec.get("nodeName")
        if node_name not in self._node_index:
            return
        if meta.get("deletionTimestamp"):
            await self._confirm_deletion(pod)
            return
        if status.get("phase") in ("Succeeded", "Failed"):
            self._forget(key)
            return
        if self._started.get(key) != meta.get("uid") and status.get("phase") != "Running":
            await self._start(pod, node_name)
            self._started[key] = meta.get("uid", "")
        if not _is_job_pod(pod):
            return
        now = time.monotonic()
        deadline = self._deadlines.setdefault(key, now + self._duration(pod))
        if now < deadline:
            raise RequeueAfter(deadline - now)
        await self._containers_exit(pod)

    def _forget(self, key: str) -> None:
        self._started.pop(key, None)
        self._deadlines.pop(key, None)

    def _duration(self, pod: Snapshot) -> float:
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        try:
            return float(annotations.get(DURATION_ANNOTATION, self.timing.job_duration))
        except ValueError:
            return self.timing.job_duration

    async def _confirm_deletion(self, pod: Snapshot) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete(
                PODS,
                meta["name"],
                namespace=meta["namespace"],
                grace_period_seconds=0,
                precondition_uid=meta["uid"],
            )
        except (errors.NotFound, errors.Conflict):
            pass  # already gone, or a new pod of the same name: nothing of ours to confirm
        self._forget(object_key(pod))

    async def _write_status(self, pod: Snapshot, status: JSON) -> None:
        meta = pod["metadata"]
        await self.client.patch(
            PODS, meta["name"], {"status": status}, namespace=meta["namespace"], subresource="status"
        )

    async def _start(self, pod: Snapshot, node_name: str) -> None:
        now, spec, uid = _now(), pod.get("spec") or {}, pod["metadata"].get("uid", "")
        pod_ip = self._pod_ip(pod, node_name)
        running = {"running": {"startedAt": now}}
        completed = {
            "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}
        }
        status: JSON = {
            "phase": "Running",
            "conditions": _conditions(ready=True, reason=None, now=now),
            "hostIP": self.node_ip,
            "hostIPs": [{"ip": self.node_ip}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": now,
            "containerStatuses": [
                _container_status(c, uid, running, ready=True) for c in spec.get("containers") or ()
            ],
        }
        if spec.get("initContainers"):
            status["initContainerStatuses"] = [
                _container_status(c, uid, completed, ready=True) for c in spec["initContainers"]
            ]
        await self._write_status(pod, status)

    async def _containers_exit(self, pod: Snapshot) -> None:
        key, spec, meta = object_key(pod), pod.get("spec") or {}, pod["metadata"]
        annotations = meta.get("annotations") or {}
        try:
            exit_code = int(annotations.get(EXIT_CODE_ANNOTATION, 0))
        except ValueError:
            exit_code = 1
        now, uid = _now(), meta.get("uid", "")
        status = pod.get("status") or {}
        started_at = status.get("startTime") or now
        reason = "Completed" if exit_code == 0 else "Error"
        exited = {
            "terminated": {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": started_at,
                "finishedAt": now,
            }
        }
        restarts = max(
            (int(c.get("restartCount", 0)) for c in status.get("containerStatuses") or ()), default=0
        )
        if exit_code != 0 and spec.get("restartPolicy") == "OnFailure":
            restarts += 1
            statuses = []
            for c in spec.get("containers") or ():
                entry = _container_status(
                    c, uid, {"running": {"startedAt": now}}, ready=True, restarts=restarts
                )
                entry["lastState"] = exited
                statuses.append(entry)
            self._deadlines[key] = time.monotonic() + min(
                self._duration(pod) * 2**restarts, MAX_RESTART_DELAY
            )
            await self._write_status(pod, {"containerStatuses": statuses})
            raise RequeueAfter(self._deadlines[key] - time.monotonic())
        await self._write_status(
            pod,
            {
                "phase": "Succeeded" if exit_code == 0 else "Failed",
                "conditions": _conditions(ready=False, reason="PodCompleted", now=now),
                "containerStatuses": [
                    _container_status(c, uid, exited, ready=False, restarts=restarts)
                    for c in spec.get("containers") or ()
                ],
            },
        )
        self._forget(key)
