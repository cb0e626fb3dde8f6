"""The PersistentVolume binder and the protection controllers against the real API server, via kubectl."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.test_housekeeping import eventually
from tests.support.running_controllers import RunningControllers

PV_COLUMNS = (
    "NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE"
)
STORAGE = {"persistentvolume-binder", "pvc-protection", "pv-protection"}


def volume(
    name: str, size: str, *, policy: str = "Retain", modes: tuple[str, ...] = ("ReadWriteOnce",), **spec: Any
) -> dict[str, Any]:
    labels = spec.pop("labels", {})
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": list(modes),
            "persistentVolumeReclaimPolicy": policy,
            "hostPath": {"path": f"/tmp/{name}"},
            **spec,
        },
    }


def claim(
    name: str, size: str, *, modes: tuple[str, ...] = ("ReadWriteOnce",), **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": size}}, **spec},
    }


class Storage:
    """A namespace of claims plus uniquely named volumes (the server is fresh per test)."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.ns = f"pv-{uuid.uuid4().hex[:8]}"
        server.kubectl("create", "namespace", self.ns)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        return str(self.server.kubectl("-n", self.ns, *args, input=input, check=check).stdout)

    def create(self, *objs: dict[str, Any]) -> None:
        self.kubectl(
            "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objs)})
        )

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        proc = self.server.kubectl("-n", self.ns, "get", kind, name, "-o", "json", check=False)
        if proc.returncode != 0:
            assert "NotFound" in proc.stderr, proc.stderr
            return None
        found: dict[str, Any] = json.loads(proc.stdout)
        return found

    def phase(self, kind: str, name: str) -> str | None:
        obj = self.get(kind, name)
        return None if obj is None else str((obj.get("status") or {}).get("phase"))

    def wait_phase(self, kind: str, name: str, phase: str) -> dict[str, Any]:
        eventually(lambda: self.phase(kind, name) == phase, what=f"{kind} {name} {phase}")
        found = self.get(kind, name)
        assert found is not None
        return found

    def bound_volume(self, name: str) -> str:
        return str(self.wait_phase("pvc", name, "Bound")["spec"]["volumeName"])

    def events(self, name: str) -> list[dict[str, Any]]:
        # Events about cluster-scoped objects (volumes) land in "default".
        out = self.kubectl(
            "get", "events", "-A", "--field-selector", f"involvedObject.name={name}", "-o", "json"
        )
        return list(json.loads(out)["items"])

    def event(self, name: str, reason: str) -> dict[str, Any]:
        found = eventually(
            lambda: [e for e in self.events(name) if e["reason"] == reason], what=f"{reason} event"
        )
        return dict(found[0])


@pytest.fixture
def storage(apiserver: RunningServer) -> Iterator[Storage]:
    with RunningControllers(apiserver.kubeconfig, names=STORAGE):
        yield Storage(apiserver)


def test_static_volume_binds_and_retain_releases(storage: Storage) -> None:
    storage.create(volume("pv-keep", "1Gi"), claim("data", "500Mi", storageClassName=""))
    assert storage.bound_volume("data") == "pv-keep"
    pv = storage.wait_phase("pv", "pv-keep", "Bound")
    pvc = storage.get("pvc", "data")
    assert pvc is not None
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert pvc["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
    assert pvc["status"]["capacity"] == {"storage": "1Gi"}
    assert pvc["status"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert pv["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]

    lines = storage.kubectl("get", "pv,pvc").splitlines()
    assert lines[0].split() == PV_COLUMNS.split()
    assert lines[1].split()[:7] == [
        "persistentvolume/pv-keep",
        "1Gi",
        "RWO",
        "Retain",
        "Bound",
        f"{storage.ns}/data",
        "<unset>",
    ]
    assert (
        lines[3].split()
        == "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE".split()
    )
    assert lines[4].split()[:6] == ["persistentvolumeclaim/data", "Bound", "pv-keep", "1Gi", "RWO", "<unset>"]

    # Retain: the volume is Released and keeps its claimRef; deleting it then is allowed (not Bound).
    storage.kubectl("delete", "pvc", "data", "--wait=false")
    released = storage.wait_phase("pv", "pv-keep", "Released")
    assert released["spec"]["claimRef"]["name"] == "data"
    storage.kubectl("delete", "pv", "pv-keep", "--wait=false")
    eventually(lambda: storage.get("pv", "pv-keep") is None, what="the released volume deleted")

    # Delete on a volume no provisioner made: it cannot be deleted, so it fails, as upstream.
    storage.create(volume("pv-del", "1Gi", policy="Delete"), claim("scratch", "1Gi", storageClassName=""))
    assert storage.bound_volume("scratch") == "pv-del"
    storage.kubectl("delete", "pvc", "scratch")
    failed = storage.wait_phase("pv", "pv-del", "Failed")
    assert "no deletable volume plugin matched" in failed["status"]["message"]
    assert storage.event("pv-del", "VolumeFailedDelete")["type"] == "Warning"


def test_class_selector_and_smallest_fit(storage: Storage) -> None:
    gold = {"tier": "gold"}
    storage.create(
        volume("fast-small", "1Gi", storageClassName="fast", labels=gold),
        volume("fast-big", "5Gi", storageClassName="fast", labels=gold),
        volume("fast-plain", "1Gi", storageClassName="fast"),
        volume("slow", "1Gi", storageClassName="slow", labels=gold),
        volume("rwx", "10Gi", storageClassName="fast", labels=gold, modes=("ReadWriteMany",)),
    )
    selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]}
    storage.create(claim("small", "500Mi", storageClassName="fast", selector=selector))
    assert storage.bound_volume("small") == "fast-small"
    storage.create(claim("big", "2Gi", storageClassName="fast", selector={"matchLabels": gold}))
    assert storage.bound_volume("big") == "fast-big"
    storage.create(claim("shared", "1Gi", storageClassName="fast", modes=("ReadWriteMany",)))
    assert storage.bound_volume("shared") == "rwx"
    storage.create(claim("nothing", "1Gi", storageClassName=""))
    event = storage.event("nothing", "FailedBinding")
    assert event["message"] == "no persistent volumes available for this claim and no storage class is set"
    assert storage.phase("pvc", "nothing") == "Pending"
    # A matching volume appearing later is picked up.
    storage.create(volume("late", "1Gi"))
    assert storage.bound_volume("nothing") == "late"
    assert storage.wait_phase("pv", "fast-plain", "Available")


def test_two_binders_racing_for_one_volume_bind_exactly_one_claim(apiserver: RunningServer) -> None:
    storage = Storage(apiserver)
    storage.create(volume("only", "1Gi"))
    with RunningControllers(apiserver.kubeconfig, names={"persistentvolume-binder"}):
        with RunningControllers(apiserver.kubeconfig, names={"persistentvolume-binder"}):
            storage.wait_phase("pv", "only", "Available")
            storage.create(*(claim(f"c{i}", "1Gi", storageClassName="") for i in range(4)))
            pv = storage.wait_phase("pv", "only", "Bound")
            winner = pv["spec"]["claimRef"]["name"]
            assert storage.bound_volume(winner) == "only"
            eventually(lambda: all(storage.get("pvc", f"c{i}") is not None for i in range(4)), what="claims")
            for i in range(4):
                if f"c{i}" != winner:
                    storage.event(f"c{i}", "FailedBinding")
            pvcs = json.loads(storage.kubectl("get", "pvc", "-o", "json"))["items"]
            assert [c["metadata"]["name"] for c in pvcs if c["spec"].get("volumeName")] == [winner]
            assert [c["metadata"]["name"] for c in pvcs if c["status"]["phase"] == "Bound"] == [winner]


def test_prebinding_by_claim_ref_and_volume_name(storage: Storage) -> None:
    ref = {"namespace": storage.ns, "name": "reserved"}
    storage.create(volume("held", "1Gi", claimRef=ref), volume("named", "2Gi"), volume("other", "1Gi"))
    storage.wait_phase("pv", "held", "Available")
    storage.create(claim("first", "1Gi", storageClassName=""))
    assert storage.bound_volume("first") == "other"  # never the volume held for "reserved"
    storage.create(
        claim("reserved", "1Gi", storageClassName=""),
        claim("picky", "1Gi", storageClassName="", volumeName="named"),
    )
    assert storage.bound_volume("reserved") == "held"
    assert storage.bound_volume("picky") == "named"
    held = storage.get("pv", "held")
    assert held is not None and "pv.kubernetes.io/bound-by-controller" not in (
        held["metadata"].get("annotations") or {}
    )
    picky = storage.get("pvc", "picky")
    assert (
        picky is not None and "pv.kubernetes.io/bound-by-controller" not in picky["metadata"]["annotations"]
    )


def test_claim_in_use_is_kept_until_its_pod_is_gone(storage: Storage) -> None:
    storage.create(volume("vol", "1Gi"), claim("used", "1Gi", storageClassName=""))
    assert storage.bound_volume("used") == "vol"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "user"},
        "spec": {
            "nodeName": "node-a",
            "containers": [
                {"name": "c", "image": "busybox", "volumeMounts": [{"name": "d", "mountPath": "/d"}]}
            ],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "used"}}],
        },
    }
    storage.create(pod)
    storage.kubectl("delete", "pvc", "used", "--wait=false")
    storage.kubectl("delete", "pv", "vol", "--wait=false")
    eventually(
        lambda: (storage.get("pvc", "used") or {}).get("metadata", {}).get("deletionTimestamp"),
        what="deleting",
    )
    assert "Terminating" in storage.kubectl("get", "pvc", "used")
    storage.kubectl("get", "pvc", "used")  # still there while the pod runs
    pv = storage.get("pv", "vol")
    assert pv is not None and pv["status"]["phase"] == "Bound"

    storage.kubectl("delete", "pod", "user", "--grace-period=0", "--force")
    eventually(lambda: storage.get("pvc", "used") is None, what="the claim removed")
    eventually(lambda: storage.get("pv", "vol") is None, what="the released volume removed")


def test_default_class_and_waiting_claims(storage: Storage) -> None:
    classes = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "local",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "dynamic"},
            "provisioner": "example.com/provisioner",
        },
    ]
    # A free volume of a WaitForFirstConsumer class waits for the scheduler to pick a node.
    storage.create(*classes, volume("local-free", "1Gi", storageClassName="local"))
    storage.create(
        claim("defaulted", "1Gi"),
        claim("none", "1Gi", storageClassName=""),
        claim("dyn", "1Gi", storageClassName="dynamic"),
    )
    defaulted = storage.get("pvc", "defaulted")
    assert defaulted is not None and defaulted["spec"]["storageClassName"] == "local"
    none = storage.get("pvc", "none")
    assert none is not None and none["spec"]["storageClassName"] == ""
    waiting = storage.event("defaulted", "WaitForFirstConsumer")
    assert waiting["message"] == "waiting for first consumer to be created before binding"
    assert waiting["type"] == "Normal"
    assert storage.event("dyn", "ExternalProvisioning")["message"].startswith(
        "Waiting for a volume to be created either by the external provisioner 'example.com/provisioner'"
    )
    dyn = storage.get("pvc", "dyn")
    assert dyn is not None
    assert (
        dyn["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"]
        == "example.com/provisioner"
    )
    assert storage.phase("pvc", "defaulted") == "Pending"
    assert storage.phase("pv", "local-free") == "Available"
