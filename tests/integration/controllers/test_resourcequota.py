"""The quota controller against the real API server: usage recounted after deletes, pod completion and a
restart; a Deployment scaled past a quota leaves its ReplicaSet short with FailedCreate events."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.workloads import NODE, get_json, running_cluster, wait_for

QUOTA = """
apiVersion: v1
kind: ResourceQuota
metadata: {{name: q, namespace: {ns}}}
spec: {{hard: {{pods: "2", configmaps: "5", count/deployments.apps: "3"}}}}
"""


def _namespace(server: RunningServer) -> str:
    name = f"q-{uuid.uuid4().hex[:8]}"
    server.kubectl("create", "namespace", name)
    return name


def _used(server: RunningServer, ns: str) -> dict[str, str]:
    status: dict[str, Any] = get_json(server, "quota", "q", "-n", ns).get("status") or {}
    return dict(status.get("used") or {})


def _pod(server: RunningServer, ns: str, name: str, *, check: bool = True) -> Any:
    """An unscheduled pod: no (fake) node touches its status behind the test's back."""
    return server.kubectl("run", name, "-n", ns, "--image=busybox", "--restart=Never", check=check)


def test_usage_is_recounted_after_deletes_completion_and_restart(apiserver: RunningServer) -> None:
    ns = _namespace(apiserver)
    with running_cluster(apiserver, {"resourcequota"}):
        apiserver.kubectl("apply", "-f", "-", input=QUOTA.format(ns=ns))
        wait_for(
            lambda: _used(apiserver, ns) == {"pods": "0", "configmaps": "0", "count/deployments.apps": "0"},
            what="the first count",
        )
        assert get_json(apiserver, "quota", "q", "-n", ns)["status"]["hard"]["pods"] == "2"
        _pod(apiserver, ns, "a")
        _pod(apiserver, ns, "b")
        refused = _pod(apiserver, ns, "c", check=False)
        assert "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2" in refused.stderr
        apiserver.kubectl("delete", "pod", "b", "-n", ns, "--grace-period=0", "--force")
        wait_for(lambda: _used(apiserver, ns).get("pods") == "1", what="the delete given back")
        _pod(apiserver, ns, "c")
        # A pod that finished stops counting.
        apiserver.kubectl(
            "patch", "pod", "c", "-n", ns, "--subresource=status", "--type=merge",
            "-p", '{"status": {"phase": "Succeeded"}}',
        )  # fmt: skip
        wait_for(lambda: _used(apiserver, ns).get("pods") == "1", what="the finished pod given back")
    # While no controller runs, usage drifts (here: a reservation for a pod that never was) ...
    apiserver.kubectl(
        "patch", "quota", "q", "-n", ns, "--subresource=status", "--type=merge",
        "-p", '{"status": {"used": {"pods": "2", "configmaps": "4"}}}',
    )  # fmt: skip
    assert _pod(apiserver, ns, "d", check=False).returncode != 0
    # ... and a restarted controller counts again from what exists.
    with running_cluster(apiserver, {"resourcequota"}):
        wait_for(
            lambda: _used(apiserver, ns) == {"pods": "1", "configmaps": "0", "count/deployments.apps": "0"},
            what="the recount after a restart",
        )
        _pod(apiserver, ns, "d")
        # Raised limits reach status.hard, which admission enforces.
        apiserver.kubectl(
            "patch", "quota", "q", "-n", ns, "--type=merge", "-p", '{"spec": {"hard": {"pods": "3"}}}'
        )
        wait_for(
            lambda: get_json(apiserver, "quota", "q", "-n", ns)["status"]["hard"]["pods"] == "3",
            what="the new limit",
        )
        _pod(apiserver, ns, "e")
        # Any counted kind is given back on delete, not only at the periodic recount.
        apiserver.kubectl("create", "deployment", "x", "-n", ns, "--image=busybox")
        assert _used(apiserver, ns)["count/deployments.apps"] == "1"
        apiserver.kubectl("delete", "deployment", "x", "-n", ns)
        wait_for(
            lambda: _used(apiserver, ns)["count/deployments.apps"] == "0", what="the deployment given back"
        )


DEPLOYMENT = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {{ns}}}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      nodeName: {NODE}
      containers: [{{name: web, image: nginx:1.25}}]
"""


def _failed_creates(server: RunningServer, ns: str) -> list[dict[str, Any]]:
    events = get_json(server, "events", "-n", ns, "--field-selector", "reason=FailedCreate")["items"]
    return [e for e in events if e["involvedObject"]["kind"] == "ReplicaSet"]


def _deploy_past_the_quota(server: RunningServer) -> str:
    ns = _namespace(server)
    server.kubectl("apply", "-f", "-", input=QUOTA.format(ns=ns))
    wait_for(lambda: _used(server, ns).get("pods") == "0", what="the first count")
    server.kubectl("apply", "-f", "-", input=DEPLOYMENT.replace("{ns}", ns))
    return ns


def test_deployment_past_the_quota_stays_short_with_failed_create(apiserver: RunningServer) -> None:
    with running_cluster(apiserver, {"resourcequota", "replicaset", "deployment"}):
        ns = _deploy_past_the_quota(apiserver)
        events = wait_for(lambda: _failed_creates(apiserver, ns), what="a FailedCreate event")
        assert "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2" in events[0]["message"]
        assert events[0]["message"].startswith("Error creating: pods ")
        [rs] = get_json(apiserver, "rs", "-n", ns)["items"]
        assert rs["status"]["replicas"] == 2
        [condition] = rs["status"]["conditions"]
        assert condition["type"] == "ReplicaFailure" and "exceeded quota" in condition["message"]
        assert _used(apiserver, ns)["count/deployments.apps"] == "1"
        assert len(get_json(apiserver, "pods", "-n", ns)["items"]) == 2


def test_failed_creates_back_off(apiserver: RunningServer) -> None:
    with running_cluster(apiserver, {"resourcequota", "replicaset", "deployment"}):
        ns = _deploy_past_the_quota(apiserver)
        wait_for(lambda: _failed_creates(apiserver, ns), what="a FailedCreate event")
        time.sleep(1)
        before = sum(e.get("count", 1) for e in _failed_creates(apiserver, ns))
        time.sleep(3)
        after = sum(e.get("count", 1) for e in _failed_creates(apiserver, ns))
        assert after - before <= 6
