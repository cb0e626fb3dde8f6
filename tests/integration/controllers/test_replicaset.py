"""ReplicaSets and ReplicationControllers against the real API server, driven by kubectl."""

from __future__ import annotations

from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.workloads import NODE, get_json, pods, running_pods, wait_for

REPLICASET = f"""
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      nodeName: {NODE}
      containers: [{{name: web, image: nginx:1.25}}]
"""


def owner_names(pod: dict[str, object]) -> list[str]:
    refs = pod["metadata"].get("ownerReferences") or []  # type: ignore[attr-defined]
    return [ref["name"] for ref in refs if ref.get("controller")]


def test_replicaset_scales_heals_adopts_and_releases(cluster: RunningServer) -> None:
    cluster.kubectl("apply", "-f", "-", input=REPLICASET)
    wait_for(lambda: len(running_pods(cluster, "app=web")) == 3, what="3 running pods")
    rs = wait_for(
        lambda: (r := get_json(cluster, "rs", "web"))["status"].get("readyReplicas") == 3 and r,
        what="readyReplicas 3",
    )
    assert rs["status"]["availableReplicas"] == 3
    assert rs["status"]["fullyLabeledReplicas"] == 3
    assert rs["status"]["observedGeneration"] == rs["metadata"]["generation"]
    pod = pods(cluster, "app=web")[0]
    assert pod["metadata"]["generateName"] == "web-"
    [ref] = pod["metadata"]["ownerReferences"]
    assert ref["uid"] == rs["metadata"]["uid"] and ref["controller"] and ref["blockOwnerDeletion"]

    cluster.kubectl("scale", "rs/web", "--replicas=5")
    wait_for(lambda: len(running_pods(cluster, "app=web")) == 5, what="scale up to 5")
    cluster.kubectl("scale", "rs/web", "--replicas=2")
    wait_for(lambda: len(pods(cluster, "app=web")) == 2, what="scale down to 2")

    # Self-healing: a deleted pod is replaced.
    victim = pods(cluster, "app=web")[0]["metadata"]["name"]
    cluster.kubectl("delete", "pod", victim, "--wait=false")
    wait_for(
        lambda: (
            len(names := {p["metadata"]["name"] for p in running_pods(cluster, "app=web")}) == 2
            and victim not in names
        ),
        what="a replacement pod",
    )

    # Releasing: a pod relabelled out of the selector loses its ownerReference and is replaced.
    released = pods(cluster, "app=web")[0]["metadata"]["name"]
    cluster.kubectl("label", "pod", released, "app=elsewhere", "--overwrite")
    wait_for(lambda: not owner_names(get_json(cluster, "pod", released)), what="the pod released")
    wait_for(lambda: len(running_pods(cluster, "app=web")) == 2, what="the released pod replaced")

    # Adoption: relabelled back it matches again, is adopted, and the surplus pod is deleted.
    cluster.kubectl("label", "pod", released, "app=web", "--overwrite")
    wait_for(lambda: owner_names(get_json(cluster, "pod", released)) == ["web"], what="the pod adopted")
    wait_for(lambda: len(pods(cluster, "app=web")) == 2, what="the surplus deleted")

    events = cluster.kubectl("get", "events", "--field-selector", "involvedObject.name=web").stdout
    assert "SuccessfulCreate" in events and "Created pod: web-" in events
    assert "SuccessfulDelete" in events and "Deleted pod: web-" in events


def test_replication_controller_keeps_its_pods(cluster: RunningServer) -> None:
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=f"""
apiVersion: v1
kind: ReplicationController
metadata: {{name: legacy}}
spec:
  replicas: 2
  selector: {{app: legacy}}
  template:
    metadata: {{labels: {{app: legacy}}}}
    spec:
      nodeName: {NODE}
      containers: [{{name: c, image: busybox}}]
""",
    )
    wait_for(lambda: len(running_pods(cluster, "app=legacy")) == 2, what="2 running pods")
    assert all(
        p["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"
        for p in pods(cluster, "app=legacy")
    )
    cluster.kubectl("scale", "rc/legacy", "--replicas=3")
    wait_for(lambda: len(running_pods(cluster, "app=legacy")) == 3, what="scale up to 3")
    wait_for(lambda: get_json(cluster, "rc", "legacy")["status"].get("readyReplicas") == 3, what="status")
