"""Quota evaluation: what pods, claims and services use, which names concern them, scopes, constraints."""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.api import quota

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _container(name: str, requests: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "resources": {"requests": requests or {}}, **extra}


def test_pod_usage_counts_init_containers_sidecars_and_overhead() -> None:
    pod = {
        "spec": {
            "containers": [
                _container("a", {"cpu": "100m"}),
                _container("b", {"cpu": "200m", "memory": "64Mi"}),
            ],
            "initContainers": [
                _container("sidecar", {"cpu": "50m"}, restartPolicy="Always"),
                _container("setup", {"cpu": "1", "memory": "32Mi"}),
            ],
            "overhead": {"cpu": "10m"},
        }
    }
    used = quota.render(quota.usage("", "pods", pod, NOW))
    # Containers and the sidecar: 350m; the init step: 1 + the sidecar started before it: 1050m.
    assert used == {
        "count/pods": "1",
        "cpu": "1060m",
        "memory": "64Mi",
        "pods": "1",
        "requests.cpu": "1060m",
        "requests.memory": "64Mi",
    }


def test_terminal_and_expired_pods_only_count_as_objects() -> None:
    done = {"spec": {"containers": [_container("a", {"cpu": "1"})]}, "status": {"phase": "Failed"}}
    assert quota.render(quota.usage("", "pods", done, NOW)) == {"count/pods": "1"}
    leaving = {
        "metadata": {"deletionTimestamp": "2025-12-31T23:59:00Z", "deletionGracePeriodSeconds": 30},
        "spec": {"containers": [_container("a")]},
    }
    assert not quota.pod_counts(leaving, NOW)
    assert quota.pod_counts(
        {**leaving, "metadata": {**leaving["metadata"], "deletionGracePeriodSeconds": 90}}, NOW
    )


def test_claims_count_per_storage_class() -> None:
    claim = {"spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}}}
    assert quota.render(quota.usage("", "persistentvolumeclaims", claim, NOW)) == {
        "count/persistentvolumeclaims": "1",
        "fast.storageclass.storage.k8s.io/persistentvolumeclaims": "1",
        "fast.storageclass.storage.k8s.io/requests.storage": "1Gi",
        "persistentvolumeclaims": "1",
        "requests.storage": "1Gi",
    }
    hard = [
        "fast.storageclass.storage.k8s.io/requests.storage",
        "requests.cpu",
        "count/persistentvolumeclaims",
    ]
    assert quota.matching_resources("", "persistentvolumeclaims", hard) == [hard[0], hard[2]]


def test_load_balancers_without_node_ports() -> None:
    spec = {
        "type": "LoadBalancer",
        "allocateLoadBalancerNodePorts": False,
        "ports": [{"port": 1}, {"port": 2, "nodePort": 30001}],
    }
    assert quota.render(quota.usage("", "services", {"spec": spec}, NOW)) == {
        "count/services": "1",
        "services": "1",
        "services.loadbalancers": "1",
        "services.nodeports": "1",
    }
    assert quota.render(quota.usage("apps", "deployments", {}, NOW)) == {"count/deployments.apps": "1"}


def test_priority_class_scope_selector() -> None:
    def scoped(operator: str, *values: str) -> dict[str, Any]:
        expression = {"scopeName": "PriorityClass", "operator": operator, "values": list(values)}
        return {"spec": {"scopeSelector": {"matchExpressions": [expression]}}}

    high = {"spec": {"priorityClassName": "high", "containers": []}}
    plain: dict[str, Any] = {"spec": {"containers": []}}
    assert quota.matches_scopes("", "pods", scoped("In", "high"), high)
    assert not quota.matches_scopes("", "pods", scoped("In", "high"), plain)
    assert quota.matches_scopes("", "pods", scoped("NotIn", "high"), plain)
    assert quota.matches_scopes("", "pods", scoped("Exists"), high)
    assert quota.matches_scopes("", "pods", scoped("DoesNotExist"), plain)
    assert not quota.matches_scopes("", "pods", scoped("DoesNotExist"), high)
    affinity = {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"namespaceSelector": {}}]}
    }
    crossing = {"spec": {"affinity": affinity, "containers": []}}
    cross = {"spec": {"scopes": ["CrossNamespacePodAffinity"]}}
    assert quota.matches_scopes("", "pods", cross, crossing)
    assert not quota.matches_scopes("", "pods", cross, plain)
    assert not quota.matches_scopes("", "services", scoped("Exists"), {})


def test_constraints_name_every_container_missing_a_resource() -> None:
    pod = {"spec": {"containers": [_container("a", {"cpu": "1"}), _container("b")]}}
    assert quota.constraints("", "pods", ["cpu", "limits.memory", "pods"], pod) == (
        "must specify cpu for: b; limits.memory for: a,b"
    )
    assert quota.constraints("", "pods", ["pods"], pod) is None
