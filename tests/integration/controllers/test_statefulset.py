"""StatefulSets against the real API server.

Pods bound to "parked" (a node nobody simulates) stay Pending and terminating pods stay terminating, so the
test plays the kubelet by hand (mark Ready, confirm deletion) and sees every ordered step; pods bound to the
fake node run by themselves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kubelite.controllers.manager import CONTROLLERS
from kubelite.controllers.statefulset import StatefulSetController
from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.inprocess import running
from tests.integration.controllers.workloads import NODE, get_json, wait_for
from tests.support.fakeclient import FakeClient, make_context

PARKED = "parked"


def statefulset(name: str, node: str, *, replicas: int = 3, **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "serviceName": name,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"nodeName": node, "containers": [{"name": "c", "image": "app:1"}]},
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
                **spec,
            },
        }
    )


@pytest.fixture
def cluster(apiserver: RunningServer) -> Iterator[RunningServer]:
    with running(apiserver, lambda ctx: [StatefulSetController(ctx)]):
        yield apiserver


def test_the_manager_registers_the_controller() -> None:
    ctx = make_context(FakeClient())
    assert isinstance(dict(CONTROLLERS)["statefulset"](ctx), StatefulSetController)
    assert "statefulset-controller" in ctx.recorders


def live_pods(server: RunningServer, app: str) -> dict[str, dict[str, Any]]:
    items = get_json(server, "pods", "-l", f"app={app}")["items"]
    return {p["metadata"]["name"]: p for p in items}


def names(server: RunningServer, app: str) -> list[str]:
    pods = live_pods(server, app)
    return sorted(n for n, p in pods.items() if not p["metadata"].get("deletionTimestamp"))


def mark_ready(server: RunningServer, name: str) -> None:
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    server.kubectl(
        "patch", "pod", name, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})
    )


def confirm_deleted(server: RunningServer, name: str) -> None:
    """What the kubelet does for a terminating pod: the final zero-grace delete."""
    app = name.rsplit("-", 1)[0]
    wait_for(
        lambda: live_pods(server, app).get(name, {}).get("metadata", {}).get("deletionTimestamp"),
        what=f"{name} terminating",
    )
    server.kubectl("delete", "pod", name, "--grace-period=0", "--force", "--wait=false")


def revision_of(pod: dict[str, Any]) -> str:
    return str(pod["metadata"]["labels"]["controller-revision-hash"])


def status(server: RunningServer, name: str) -> dict[str, Any]:
    return dict(get_json(server, "sts", name).get("status") or {})


def assert_stays(server: RunningServer, app: str, expected: list[str], seconds: float = 1.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert names(server, app) == expected
        time.sleep(0.2)


def test_ordered_ready_creates_in_order_with_claims_and_scales_down_in_reverse(
    cluster: RunningServer,
) -> None:
    cluster.kubectl("apply", "-f", "-", input=statefulset("web", PARKED))
    wait_for(lambda: names(cluster, "web") == ["web-0"], what="web-0")
    assert_stays(cluster, "web", ["web-0"])  # web-1 waits for web-0 to be Ready
    pod = live_pods(cluster, "web")["web-0"]
    labels = pod["metadata"]["labels"]
    assert labels["statefulset.kubernetes.io/pod-name"] == "web-0"
    assert labels["apps.kubernetes.io/pod-index"] == "0"
    assert pod["spec"]["hostname"] == "web-0" and pod["spec"]["subdomain"] == "web"
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}} in pod["spec"]["volumes"]
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
    for ordinal in range(3):

        def appeared(name: str = f"web-{ordinal}") -> bool:
            return name in names(cluster, "web")

        wait_for(appeared, what=f"web-{ordinal}")
        mark_ready(cluster, f"web-{ordinal}")
    claims = get_json(cluster, "pvc")["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["data-web-0", "data-web-1", "data-web-2"]
    assert all(c["metadata"]["labels"] == {"app": "web"} for c in claims)
    assert all(not c["metadata"].get("ownerReferences") for c in claims)  # Retain/Retain
    done = wait_for(lambda: (s := status(cluster, "web")).get("readyReplicas") == 3 and s, what="3 ready")
    assert done["replicas"] == 3 and done["currentReplicas"] == 3 and done["updatedReplicas"] == 3
    assert done["availableReplicas"] == 3 and done["observedGeneration"] == 1
    assert done["currentRevision"] == done["updateRevision"]
    assert {revision_of(p) for p in live_pods(cluster, "web").values()} == {done["updateRevision"]}
    revisions = get_json(cluster, "controllerrevisions")["items"]
    assert [r["metadata"]["name"] for r in revisions] == [done["updateRevision"]]
    rollout = cluster.kubectl("rollout", "status", "sts/web", "--timeout=20s")
    # kubectl reports any set partition (the defaulted 0 too) as a partitioned roll out, as upstream.
    assert "roll out complete: 3 new pods have been updated" in rollout.stdout

    # Scale down through the scale subresource: web-2 goes first, web-1 only once web-2 is gone.
    cluster.kubectl("scale", "sts/web", "--replicas=1")
    wait_for(lambda: names(cluster, "web") == ["web-0", "web-1"], what="web-2 terminating")
    assert_stays(cluster, "web", ["web-0", "web-1"])  # web-1 waits for web-2 to be gone
    confirm_deleted(cluster, "web-2")
    confirm_deleted(cluster, "web-1")
    wait_for(lambda: names(cluster, "web") == ["web-0"], what="scaled down to web-0")
    wait_for(lambda: status(cluster, "web").get("replicas") == 1, what="status replicas 1")
    claims = get_json(cluster, "pvc")["items"]
    assert len(claims) == 3  # whenScaled: Retain keeps data-web-1 and data-web-2

    # A failed pod is replaced under the same name.
    old_uid = live_pods(cluster, "web")["web-0"]["metadata"]["uid"]
    cluster.kubectl(
        "patch", "pod", "web-0", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Failed"}}'
    )
    wait_for(
        lambda: (
            (p := live_pods(cluster, "web").get("web-0")) is not None
            and p["metadata"]["uid"] != old_uid
            and not p["metadata"].get("deletionTimestamp")
        ),
        what="web-0 recreated after failing",
    )


def test_rolling_update_goes_in_reverse_and_honours_the_partition(cluster: RunningServer) -> None:
    cluster.kubectl("apply", "-f", "-", input=statefulset("db", NODE))
    first = wait_for(lambda: (s := status(cluster, "db")).get("readyReplicas") == 3 and s, what="3 ready")
    old = first["updateRevision"]

    # A deleted pod comes back with the same name and claim.
    uid = live_pods(cluster, "db")["db-1"]["metadata"]["uid"]
    claim_uid = get_json(cluster, "pvc", "data-db-1")["metadata"]["uid"]
    cluster.kubectl("delete", "pod", "db-1", "--wait=false")
    wait_for(
        lambda: (
            (p := live_pods(cluster, "db").get("db-1")) is not None
            and p["metadata"]["uid"] != uid
            and p["status"].get("phase") == "Running"
        ),
        what="db-1 recreated",
    )
    assert get_json(cluster, "pvc", "data-db-1")["metadata"]["uid"] == claim_uid

    # partition 2: only db-2 moves to the new template.
    cluster.kubectl(
        "patch", "sts", "db", "--type=merge", "-p",
        '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}',
    )  # fmt: skip
    cluster.kubectl("set", "image", "sts/db", "c=app:2")
    partial = wait_for(
        lambda: (
            (s := status(cluster, "db")).get("updatedReplicas") == 1 and s.get("readyReplicas") == 3 and s
        ),
        what="db-2 updated",
    )
    new = partial["updateRevision"]
    assert new != old and partial["currentRevision"] == old and partial["currentReplicas"] == 2
    pods = live_pods(cluster, "db")
    assert [revision_of(pods[f"db-{o}"]) for o in range(3)] == [old, old, new]
    assert pods["db-2"]["spec"]["containers"][0]["image"] == "app:2"
    rollout = cluster.kubectl("rollout", "status", "sts/db", "--timeout=20s")
    assert "partitioned roll out complete: 1 new pods have been updated" in rollout.stdout

    # partition 0: the rest follows, highest ordinal first (db-1 is deleted before db-0).
    cluster.kubectl(
        "patch", "sts", "db", "--type=merge", "-p",
        '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}',
    )  # fmt: skip
    rollout = cluster.kubectl("rollout", "status", "sts/db", "--timeout=30s")
    assert "partitioned roll out complete: 3 new pods have been updated" in rollout.stdout
    done = wait_for(lambda: (s := status(cluster, "db")).get("currentRevision") == new and s, what="current")
    assert done["currentRevision"] == done["updateRevision"] == new and done["currentReplicas"] == 3
    deletions = [
        e["message"]
        for e in sorted(
            get_json(cluster, "events")["items"], key=lambda e: int(e["metadata"]["resourceVersion"])
        )
        if e["reason"] == "SuccessfulDelete"
    ]
    assert deletions[-3:] == [f"delete Pod db-{o} in StatefulSet db successful" for o in (2, 1, 0)]

    # OnDelete: a template change replaces nothing until a pod is deleted.
    cluster.kubectl(
        "patch", "sts", "db", "--type=merge", "-p",
        '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}',
    )  # fmt: skip
    cluster.kubectl("set", "image", "sts/db", "c=app:3")
    newest = wait_for(
        lambda: (s := status(cluster, "db")).get("updateRevision") not in (None, new) and s, what="revision 3"
    )["updateRevision"]
    time.sleep(1.0)
    assert {revision_of(p) for p in live_pods(cluster, "db").values()} == {new}
    cluster.kubectl("delete", "pod", "db-0", "--wait=false")
    wait_for(
        lambda: (p := live_pods(cluster, "db").get("db-0")) is not None and revision_of(p) == newest,
        what="db-0 recreated at the newest revision",
    )
    assert revision_of(live_pods(cluster, "db")["db-1"]) == new


def owner_kinds(server: RunningServer, claim: str) -> list[str]:
    refs = get_json(server, "pvc", claim)["metadata"].get("ownerReferences") or []
    assert not any(r.get("controller") for r in refs)
    return [r["kind"] for r in refs]


def test_parallel_creates_and_deletes_at_once_and_claims_follow_the_retention_policy(
    cluster: RunningServer,
) -> None:
    policy = {"whenDeleted": "Delete", "whenScaled": "Delete"}
    manifest = statefulset(
        "par", PARKED, podManagementPolicy="Parallel", persistentVolumeClaimRetentionPolicy=policy
    )
    cluster.kubectl("apply", "-f", "-", input=manifest)
    wait_for(lambda: names(cluster, "par") == ["par-0", "par-1", "par-2"], what="all three pods, none ready")
    wait_for(lambda: status(cluster, "par").get("replicas") == 3, what="status replicas 3")
    assert "readyReplicas" not in status(cluster, "par")
    claims = sorted(c["metadata"]["name"] for c in get_json(cluster, "pvc")["items"])
    assert claims == ["data-par-0", "data-par-1", "data-par-2"]
    assert all(owner_kinds(cluster, c) == ["StatefulSet"] for c in claims)  # whenDeleted: Delete

    # maxUnavailable 2: the update replaces par-2 and par-1 together, par-0 waits for one to be ready.
    for ordinal in range(3):
        mark_ready(cluster, f"par-{ordinal}")
    wait_for(lambda: status(cluster, "par").get("readyReplicas") == 3, what="3 ready")
    cluster.kubectl(
        "patch", "sts", "par", "--type=merge", "-p",
        '{"spec":{"updateStrategy":{"rollingUpdate":{"maxUnavailable":2}}}}',
    )  # fmt: skip
    cluster.kubectl("set", "image", "sts/par", "c=app:2")
    wait_for(lambda: names(cluster, "par") == ["par-0"], what="par-1 and par-2 replaced")
    confirm_deleted(cluster, "par-2")
    confirm_deleted(cluster, "par-1")
    wait_for(lambda: names(cluster, "par") == ["par-0", "par-1", "par-2"], what="par-1 and par-2 recreated")
    assert_stays(cluster, "par", ["par-0", "par-1", "par-2"])
    update = status(cluster, "par")["updateRevision"]
    pods = live_pods(cluster, "par")
    assert [revision_of(pods[f"par-{o}"]) == update for o in range(3)] == [False, True, True]

    # Scaled down: both condemned pods go at once, each claim now owned by its pod (whenScaled: Delete).
    # (par-0, the one replica left and still old, is replaced by the update meanwhile.)
    cluster.kubectl("scale", "sts/par", "--replicas=1")

    def condemned_terminating() -> bool:
        pods = live_pods(cluster, "par")
        return all(pods[f"par-{o}"]["metadata"].get("deletionTimestamp") for o in (1, 2))

    wait_for(condemned_terminating, what="par-1 and par-2 terminating")
    assert owner_kinds(cluster, "data-par-0") == ["StatefulSet"]
    assert owner_kinds(cluster, "data-par-1") == owner_kinds(cluster, "data-par-2") == ["Pod"]
