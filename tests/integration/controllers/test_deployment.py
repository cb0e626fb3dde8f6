"""Deployments against the real API server, driven by kubectl: rollouts, history, undo, pause, deadlines."""

from __future__ import annotations

from typing import Any

from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.workloads import NODE, get_json, pods, running_pods, wait_for

REVISION = "deployment.kubernetes.io/revision"


def deployment(name: str, *, image: str = "nginx:1.0", node: str = NODE, extra_spec: str = "") -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: {name}}}}}
{extra_spec}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      nodeName: {node}
      containers: [{{name: app, image: "{image}"}}]
"""


def images(server: RunningServer, selector: str) -> set[str]:
    return {p["spec"]["containers"][0]["image"] for p in running_pods(server, selector)}


def replicasets(server: RunningServer, selector: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = get_json(server, "rs", "-l", selector)["items"]
    return items


def rollout_status(server: RunningServer, name: str) -> str:
    return server.kubectl("rollout", "status", f"deploy/{name}", "--timeout=60s", timeout=90).stdout


def test_rolling_update_history_and_undo(cluster: RunningServer) -> None:
    cluster.kubectl("apply", "-f", "-", input=deployment("web"))
    assert "successfully rolled out" in rollout_status(cluster, "web")
    [first] = replicasets(cluster, "app=web")
    assert first["metadata"]["annotations"][REVISION] == "1"
    template_hash = first["metadata"]["labels"]["pod-template-hash"]
    assert first["metadata"]["name"] == f"web-{template_hash}"
    assert first["spec"]["selector"]["matchLabels"]["pod-template-hash"] == template_hash

    cluster.kubectl("set", "image", "deploy/web", "app=nginx:2.0")
    assert "successfully rolled out" in rollout_status(cluster, "web")
    wait_for(
        lambda: images(cluster, "app=web") == {"nginx:2.0"} and len(pods(cluster, "app=web")) == 3,
        what="only new pods",
    )
    d = get_json(cluster, "deploy", "web")
    assert d["metadata"]["annotations"][REVISION] == "2"
    status = d["status"]
    assert status["updatedReplicas"] == status["availableReplicas"] == status["replicas"] == 3
    conditions = {c["type"]: c["reason"] for c in status["conditions"]}
    assert conditions == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}

    history = cluster.kubectl("rollout", "history", "deploy/web").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

    cluster.kubectl("rollout", "undo", "deploy/web")
    assert "successfully rolled out" in rollout_status(cluster, "web")
    assert (
        get_json(cluster, "deploy", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
        == "nginx:1.0"
    )
    wait_for(
        lambda: images(cluster, "app=web") == {"nginx:1.0"} and len(pods(cluster, "app=web")) == 3,
        what="the old image back",
    )
    revived = next(
        rs for rs in replicasets(cluster, "app=web") if rs["metadata"]["name"] == first["metadata"]["name"]
    )
    assert revived["metadata"]["annotations"][REVISION] == "3"
    assert revived["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"

    cluster.kubectl("rollout", "restart", "deploy/web")
    assert "successfully rolled out" in rollout_status(cluster, "web")
    assert len(replicasets(cluster, "app=web")) == 3
    restarted = get_json(cluster, "deploy", "web")["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in restarted

    cluster.kubectl("rollout", "undo", "deploy/web", "--to-revision=2")
    assert "successfully rolled out" in rollout_status(cluster, "web")
    wait_for(
        lambda: images(cluster, "app=web") == {"nginx:2.0"} and len(pods(cluster, "app=web")) == 3,
        what="revision 2's image back",
    )
    assert get_json(cluster, "deploy", "web")["metadata"]["annotations"][REVISION] == "5"
    events = cluster.kubectl("get", "events", "--field-selector", "involvedObject.name=web").stdout
    assert (
        "ScalingReplicaSet" in events and f"Scaled up replica set web-{template_hash} from 0 to 3" in events
    )


def test_recreate_replaces_every_pod(cluster: RunningServer) -> None:
    cluster.kubectl("apply", "-f", "-", input=deployment("batch", extra_spec="  strategy: {type: Recreate}"))
    rollout_status(cluster, "batch")
    cluster.kubectl("set", "image", "deploy/batch", "app=nginx:2.0")
    assert "successfully rolled out" in rollout_status(cluster, "batch")
    wait_for(lambda: images(cluster, "app=batch") == {"nginx:2.0"}, what="new pods only")
    sizes = sorted(rs["spec"]["replicas"] for rs in replicasets(cluster, "app=batch"))
    assert sizes == [0, 3]


def test_pause_scale_and_resume(cluster: RunningServer) -> None:
    cluster.kubectl("apply", "-f", "-", input=deployment("paused", extra_spec="  revisionHistoryLimit: 1"))
    rollout_status(cluster, "paused")
    cluster.kubectl("rollout", "pause", "deploy/paused")
    cluster.kubectl("set", "image", "deploy/paused", "app=nginx:2.0")
    wait_for(
        lambda: any(
            c["reason"] == "DeploymentPaused"
            for c in get_json(cluster, "deploy", "paused")["status"]["conditions"]
        ),
        what="the DeploymentPaused condition",
    )
    cluster.kubectl("scale", "deploy/paused", "--replicas=4")
    wait_for(lambda: len(running_pods(cluster, "app=paused")) == 4, what="scaled while paused")
    assert len(replicasets(cluster, "app=paused")) == 1  # no rollout while paused
    assert images(cluster, "app=paused") == {"nginx:1.0"}

    cluster.kubectl("rollout", "resume", "deploy/paused")
    assert "successfully rolled out" in rollout_status(cluster, "paused")
    wait_for(
        lambda: images(cluster, "app=paused") == {"nginx:2.0"} and len(pods(cluster, "app=paused")) == 4,
        what="the new image after resume",
    )
    # revisionHistoryLimit 1 keeps one old (empty) ReplicaSet; a third rollout removes the oldest.
    cluster.kubectl("set", "image", "deploy/paused", "app=nginx:3.0")
    rollout_status(cluster, "paused")
    wait_for(lambda: len(replicasets(cluster, "app=paused")) == 2, what="history cleaned up")


def test_progress_deadline_exceeded(cluster: RunningServer) -> None:
    never_ready = deployment("stuck", node="no-such-node", extra_spec="  progressDeadlineSeconds: 2")
    cluster.kubectl("apply", "-f", "-", input=never_ready)
    proc = cluster.kubectl("rollout", "status", "deploy/stuck", "--timeout=60s", check=False, timeout=90)
    assert proc.returncode != 0
    assert 'deployment "stuck" exceeded its progress deadline' in proc.stderr
    status = get_json(cluster, "deploy", "stuck")["status"]
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert status["unavailableReplicas"] == 3
