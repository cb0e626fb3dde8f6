"""Dynamic local-path storage on `kubelite server`, driven by the real kubectl: a claim of the default class
gets a directory on the node its first pod is scheduled to, the data outlives the pod, and deleting the claim
removes the directory (reclaim policy Delete)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import ServerProcess, server_in_netns, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_in_netns(tmp_path_factory.mktemp("storage")) as running:
        wait_for(
            lambda: " Ready " in running.kubectl("get", "nodes", check=False).stdout, within=60, what="node"
        )
        yield running


def claim_manifest() -> str:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}
    return json.dumps(
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": spec}
    )


def pod_manifest(name: str, script: str) -> str:
    container = {
        "name": "main",
        "image": "busybox",
        "command": ["sh", "-c", script],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    spec = {
        "restartPolicy": "Never",
        "containers": [container],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
    }
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})


def test_a_claim_of_the_default_class_keeps_data_across_pods_and_is_deleted_with_the_claim(
    cluster: ServerProcess,
) -> None:
    ns = f"e2e-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", ns)

    def kubectl(*args: str, input: str | None = None) -> str:
        return str(cluster.kubectl("-n", ns, *args, input=input).stdout)

    def get(*args: str) -> Any:
        return json.loads(kubectl("get", *args, "-o", "json"))

    def finished(name: str) -> None:
        def done() -> bool:
            return get("pod", name).get("status", {}).get("phase") in ("Succeeded", "Failed")

        wait_for(done, within=90, what=f"pod {name} to finish")
        assert get("pod", name)["status"]["phase"] == "Succeeded", kubectl("describe", "pod", name)

    try:
        kubectl("create", "-f", "-", input=claim_manifest())
        claim = get("pvc", "data")
        assert claim["spec"]["storageClassName"] == "local-path"  # the default class
        assert claim["status"]["phase"] == "Pending"

        kubectl("create", "-f", "-", input=pod_manifest("writer", "echo kept > /data/file"))
        finished("writer")
        claim = get("pvc", "data")
        assert claim["status"]["phase"] == "Bound"
        pv = cluster.kubectl_json("get", "pv", claim["spec"]["volumeName"])
        directory = Path(pv["spec"]["hostPath"]["path"])
        assert directory.parent == cluster.data_dir / "agent" / "storage"
        assert (directory / "file").read_text() == "kept\n"

        kubectl("delete", "pod", "writer")
        kubectl("create", "-f", "-", input=pod_manifest("reader", "cat /data/file"))
        finished("reader")
        assert kubectl("logs", "reader") == "kept\n"

        kubectl("delete", "pod", "reader")
        kubectl("delete", "pvc", "data")
        wait_for(
            lambda: cluster.kubectl("get", "pv", pv["metadata"]["name"], check=False).returncode != 0,
            within=30,
            what="the volume deleted",
        )
        assert not directory.exists()
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_a_pod_on_a_volume_this_node_cannot_mount_gets_a_failed_mount_event(cluster: ServerProcess) -> None:
    """PVs of other backends are accepted and stored; a pod using one waits with a reason, not silently."""
    ns, pv = f"e2e-{uuid.uuid4().hex[:8]}", f"nfs-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", ns)
    nfs = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": pv},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany"],
            "nfs": {"server": "nfs.example", "path": "/exports"},
            "storageClassName": "",
            "claimRef": {"namespace": ns, "name": "data"},
        },
    }
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "",
            "volumeName": pv,
        },
    }
    try:
        cluster.kubectl("create", "-f", "-", input=json.dumps(nfs))
        cluster.kubectl("-n", ns, "create", "-f", "-", input=json.dumps(claim))
        cluster.kubectl("-n", ns, "create", "-f", "-", input=pod_manifest("user", "ls /data"))
        events = ("-n", ns, "get", "events", "--field-selector", "involvedObject.name=user")
        wait_for(lambda: "FailedMount" in cluster.kubectl(*events).stdout, within=60, what="FailedMount")
        assert "this node mounts only hostPath and local volumes" in cluster.kubectl(*events).stdout
        assert "ContainerCreating" in cluster.kubectl("-n", ns, "get", "pod", "user").stdout
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
        cluster.kubectl("delete", "pv", pv, "--wait=false", check=False)


RETAIN_CLASS = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local-retain}
provisioner: rancher.io/local-path
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
"""

STATEFUL = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command:
        - sh
        - -c
        - "[ -f /data/first ] || hostname > /data/first; trap 'exit 0' TERM; sleep 3600 & wait"
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: local-retain
      resources: {requests: {storage: 16Mi}}
"""


def test_a_stateful_set_keeps_each_replicas_data_and_retain_keeps_it_after_the_claim(
    cluster: ServerProcess,
) -> None:
    ns = f"e2e-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", ns)
    cluster.kubectl("apply", "-f", "-", input=RETAIN_CLASS)

    def kubectl(*args: str, input: str | None = None) -> str:
        return str(cluster.kubectl("-n", ns, *args, input=input).stdout)

    try:
        kubectl("apply", "-f", "-", input=STATEFUL)
        wait_for(lambda: kubectl("get", "sts", "web", "-o", "jsonpath={.status.readyReplicas}") == "2",
                 within=120, what="two ready replicas")
        assert kubectl("get", "pvc", "-o", "jsonpath={.items[*].metadata.name}").split() == [
            "data-web-0", "data-web-1"]
        assert kubectl("exec", "web-0", "--", "cat", "/data/first") == "web-0\n"
        uid = kubectl("get", "pod", "web-0", "-o", "jsonpath={.metadata.uid}")

        kubectl("delete", "pod", "web-0")  # comes back with the same name and the same claim
        wait_for(lambda: kubectl("get", "pod", "web-0", "-o", "jsonpath={.metadata.uid}") not in ("", uid)
                 and kubectl("get", "pod", "web-0", "-o", "jsonpath={.status.phase}") == "Running",
                 within=90, what="web-0 back")
        assert kubectl("exec", "web-0", "--", "cat", "/data/first") == "web-0\n"

        volume = kubectl("get", "pvc", "data-web-1", "-o", "jsonpath={.spec.volumeName}")
        directory = Path(cluster.kubectl("get", "pv", volume, "-o", "jsonpath={.spec.hostPath.path}").stdout)
        kubectl("delete", "sts", "web")
        wait_for(lambda: not kubectl("get", "pods", "-o", "name"), within=60, what="pods gone")
        kubectl("delete", "pvc", "data-web-1")
        wait_for(lambda: cluster.kubectl("get", "pv", volume, "-o", "jsonpath={.status.phase}").stdout
                 == "Released", within=30, what="the volume Released")
        assert (directory / "first").read_text() == "web-1\n"  # Retain: the data stays on the node
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
        cluster.kubectl("delete", "storageclass", "local-retain", check=False)
