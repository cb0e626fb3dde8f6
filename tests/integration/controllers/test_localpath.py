"""The local-path provisioner with the real scheduler and a fake node: the default class, claims that wait for
their first pod, the PV made for the node the scheduler chose, expansion, and Immediate claims that wait."""

from __future__ import annotations

import json
from typing import Any

from kubelite.controllers.localpath import LocalPathProvisioner
from kubelite.controllers.persistentvolume import PersistentVolumeController
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.inprocess import running
from tests.integration.controllers.test_housekeeping import eventually, get

NODE = "fake-node-0"
STORAGE_DIR = "/srv/kubelite-test/storage"  # only written into objects; the fake node makes nothing


def claim(name: str, size: str = "1Gi", storage_class: str = "local-path") -> str:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}}
    return json.dumps({**body, "spec": {**spec, "storageClassName": storage_class}})


def pod(name: str, claim_name: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "containers": [
                    {"name": "c", "image": "busybox", "volumeMounts": [{"name": "d", "mountPath": "/d"}]}
                ],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim_name}}],
            },
        }
    )


def provisioner_running(server: RunningServer) -> Any:
    """The provisioner and the PV binder (which binds the claim to the pre-bound PV), with the scheduler."""
    return running(
        server, lambda ctx: [LocalPathProvisioner(ctx), PersistentVolumeController(ctx)], scheduler=True
    )


def publish_storage_dir(server: RunningServer) -> None:
    """What the node's agent does at start (kubelite.agent.volumes.localpath)."""
    eventually(lambda: get(server, "node", NODE), what="the fake node")
    patch = json.dumps({"metadata": {"annotations": {"kubelite.io/storage-dir": STORAGE_DIR}}})
    server.kubectl("patch", "node", NODE, "-p", patch)


def test_default_class_wffc_provisioning_and_expansion(apiserver: RunningServer) -> None:
    with provisioner_running(apiserver):
        sc = eventually(lambda: get(apiserver, "storageclass", "local-path"), what="the default class")
        assert sc["provisioner"] == "rancher.io/local-path"
        assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
        assert (sc["volumeBindingMode"], sc["reclaimPolicy"], sc["allowVolumeExpansion"]) == (
            "WaitForFirstConsumer",
            "Delete",
            True,
        )
        assert "local-path (default)" in apiserver.kubectl("get", "storageclass").stdout
        publish_storage_dir(apiserver)

        apiserver.kubectl("create", "-f", "-", input=claim("data"))
        pending = get(apiserver, "pvc", "data")
        assert pending is not None and pending["status"]["phase"] == "Pending"
        assert "volume.kubernetes.io/selected-node" not in (pending["metadata"].get("annotations") or {})
        uid = pending["metadata"]["uid"]
        assert get(apiserver, "pv", f"pvc-{uid}") is None  # no consumer yet: nothing is provisioned

        apiserver.kubectl("create", "-f", "-", input=pod("user", "data"))
        bound = eventually(
            lambda: (c := get(apiserver, "pvc", "data")) and c["status"].get("phase") == "Bound" and c,
            what="the claim bound",
        )
        assert bound["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == NODE
        assert bound["spec"]["volumeName"] == f"pvc-{uid}"
        assert bound["status"]["capacity"] == {"storage": "1Gi"}
        pv = get(apiserver, "pv", f"pvc-{uid}")
        assert pv is not None
        spec = pv["spec"]
        assert spec["hostPath"] == {
            "path": f"{STORAGE_DIR}/pvc-{uid}_default_data",
            "type": "DirectoryOrCreate",
        }
        terms = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert terms == [
            {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [NODE]}]}
        ]
        assert (spec["claimRef"]["uid"], spec["claimRef"]["name"]) == (uid, "data")
        assert spec["capacity"] == {"storage": "1Gi"}
        assert (spec["persistentVolumeReclaimPolicy"], spec["storageClassName"]) == ("Delete", "local-path")
        assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"
        scheduled = eventually(lambda: (p := get(apiserver, "pod", "user")) and p["spec"].get("nodeName"))
        assert scheduled == NODE

        grow = json.dumps({"spec": {"resources": {"requests": {"storage": "3Gi"}}}})
        apiserver.kubectl("patch", "pvc", "data", "-p", grow)
        eventually(
            lambda: (c := get(apiserver, "pvc", "data")) and c["status"]["capacity"] == {"storage": "3Gi"},
            what="the claim's status capacity grown",
        )
        grown = get(apiserver, "pv", f"pvc-{uid}")
        assert grown is not None and grown["spec"]["capacity"] == {"storage": "3Gi"}


def test_unbound_immediate_claim_keeps_its_pod_pending(apiserver: RunningServer) -> None:
    immediate = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "manual"},
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "Immediate",
    }
    with provisioner_running(apiserver):
        apiserver.kubectl("create", "-f", "-", input=json.dumps(immediate))
        apiserver.kubectl("create", "-f", "-", input=claim("manual-data", storage_class="manual"))
        apiserver.kubectl("create", "-f", "-", input=pod("waiter", "manual-data"))

        def unschedulable() -> str:
            found = get(apiserver, "pod", "waiter") or {}
            conditions = (found.get("status") or {}).get("conditions") or []
            return next((c["message"] for c in conditions if c["type"] == "PodScheduled"), "")

        message = eventually(unschedulable, what="the pod reported unschedulable")
        assert "pod has unbound immediate PersistentVolumeClaims" in message
        waiting = get(apiserver, "pvc", "manual-data")
        assert waiting is not None and waiting["status"]["phase"] == "Pending"
        assert "volume.kubernetes.io/selected-node" not in (waiting["metadata"].get("annotations") or {})
