"""DaemonSets against the real API server: the scheduler binds their pods, a fake node runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from kubelite.controllers.daemonset import DaemonSetController
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.inprocess import running
from tests.integration.controllers.workloads import NODE, get_json, wait_for

DAEMONSET = json.dumps(
    {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": "agent:1"}]},
            },
        },
    }
)


@pytest.fixture
def cluster(apiserver: RunningServer) -> Iterator[RunningServer]:
    with running(apiserver, lambda ctx: [DaemonSetController(ctx)], scheduler=True):
        yield apiserver


def by_node(server: RunningServer) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for pod in get_json(server, "pods", "-l", "app=agent")["items"]:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        node = terms["nodeSelectorTerms"][0]["matchFields"][0]["values"][0]
        out.setdefault(node, []).append(pod)
    return out


def add_node(server: RunningServer, name: str) -> None:
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
    }
    server.kubectl("create", "-f", "-", input=json.dumps(node))


def test_daemonset_follows_nodes_and_rolls_out_a_new_template(cluster: RunningServer) -> None:
    wait_for(lambda: cluster.kubectl("get", "node", NODE, check=False).returncode == 0, what="the fake node")
    cluster.kubectl("apply", "-f", "-", input=DAEMONSET)
    pod = wait_for(
        lambda: [p for p in by_node(cluster).get(NODE, []) if p.get("status", {}).get("phase") == "Running"],
        what="a running daemon pod on the fake node",
    )[0]
    assert pod["spec"]["nodeName"] == NODE  # bound by the scheduler, not by the controller
    status = wait_for(
        lambda: (s := get_json(cluster, "ds", "agent").get("status", {})).get("numberAvailable") == 1 and s,
        what="numberAvailable 1",
    )
    assert status["desiredNumberScheduled"] == 1 and status["currentNumberScheduled"] == 1
    assert status["numberReady"] == 1 and status["updatedNumberScheduled"] == 1

    # A new node gets a pod; a removed one loses it.
    add_node(cluster, "extra")
    wait_for(lambda: "extra" in by_node(cluster), what="a pod for the new node")
    wait_for(
        lambda: get_json(cluster, "ds", "agent")["status"]["desiredNumberScheduled"] == 2, what="desired 2"
    )
    cluster.kubectl("delete", "node", "extra")
    wait_for(lambda: "extra" not in by_node(cluster), what="the removed node's pod deleted")

    # A new template rolls out; the old revision is kept in history.
    cluster.kubectl("set", "image", "ds/agent", "agent=agent:2")
    wait_for(
        lambda: [
            p
            for p in by_node(cluster).get(NODE, [])
            if p["spec"]["containers"][0]["image"] == "agent:2"
            and p.get("status", {}).get("phase") == "Running"
        ],
        what="the updated pod running",
    )
    revisions = get_json(cluster, "controllerrevisions")["items"]
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    history = cluster.kubectl("rollout", "history", "ds/agent").stdout
    assert "REVISION" in history
    cluster.kubectl("rollout", "status", "ds/agent", "--timeout=30s")

    # Undo goes back to the first template, whose revision becomes the newest.
    cluster.kubectl("rollout", "undo", "ds/agent")
    wait_for(
        lambda: [
            p
            for p in by_node(cluster).get(NODE, [])
            if p["spec"]["containers"][0]["image"] == "agent:1"
            and p.get("status", {}).get("phase") == "Running"
        ],
        what="the first template running again",
    )
    revisions = get_json(cluster, "controllerrevisions")["items"]
    numbers = {
        r["data"]["spec"]["template"]["spec"]["containers"][0]["image"]: r["revision"] for r in revisions
    }
    assert numbers == {"agent:1": 3, "agent:2": 2}
