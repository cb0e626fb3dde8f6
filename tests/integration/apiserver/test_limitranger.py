"""LimitRanger admission through the real API server and kubectl: defaults, bounds, ratios, Pod and claim
limits, several LimitRanges together, and `kubectl describe limitrange`."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.apiserver.conftest import RunningServer


def limit_range(name: str, *limits: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"limits": list(limits)},
    }


def pod(name: str, *resources: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    containers = [{"name": f"c{i}", "image": "nginx", "resources": r} for i, r in enumerate(resources)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": containers},
    }


def claim(name: str, storage: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}},
    }


def create(server: RunningServer, obj: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = json.loads(
        server.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(obj)).stdout
    )
    return made


def refused(server: RunningServer, obj: dict[str, Any]) -> str:
    """The server's message for an object it forbids (kubectl prints it after `Error from server`)."""
    proc = server.kubectl("create", "-f", "-", input=json.dumps(obj), check=False)
    assert proc.returncode != 0, f"{obj['metadata']['name']} was admitted"
    assert "Error from server (Forbidden)" in proc.stderr, proc.stderr
    return proc.stderr.strip().split(": ", 2)[2]


def test_defaults_fill_containers_and_describe_prints_the_table(apiserver: RunningServer) -> None:
    create(
        apiserver,
        limit_range(
            "limits",
            {
                "type": "Container",
                "default": {"cpu": "500m", "memory": "128Mi"},
                "defaultRequest": {"cpu": "250m"},
            },
        ),
    )
    apiserver.kubectl("run", "web", "--image=nginx")
    made = json.loads(apiserver.kubectl("get", "pod", "web", "-o", "json").stdout)
    assert made["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "250m", "memory": "128Mi"},
    }
    assert made["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web"
    )
    # A container's own values win; only what it leaves out is filled in.
    own = create(apiserver, pod("own", {"limits": {"cpu": "1"}}))
    assert own["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "1", "memory": "128Mi"},
        "requests": {"cpu": "1", "memory": "128Mi"},
    }
    apiserver.kubectl("create", "namespace", "plain")
    apiserver.kubectl("run", "bare", "--image=nginx", "-n", "plain")
    bare = json.loads(apiserver.kubectl("get", "pod", "bare", "-n", "plain", "-o", "json").stdout)
    assert bare["spec"]["containers"][0]["resources"] == {}
    assert "kubernetes.io/limit-ranger" not in (bare["metadata"].get("annotations") or {})

    described = apiserver.kubectl("describe", "limitrange", "limits").stdout.splitlines()
    assert described[:2] == ["Name:       limits", "Namespace:  default"]
    assert (
        described[2].split()
        == "Type Resource Min Max Default Request Default Limit Max Limit/Request Ratio".split()
    )
    rows = sorted(line.split() for line in described[4:] if line.strip())
    assert rows == [
        ["Container", "cpu", "-", "-", "250m", "500m", "-"],
        ["Container", "memory", "-", "-", "128Mi", "128Mi", "-"],
    ]


def test_container_min_max_and_ratio_are_enforced(apiserver: RunningServer) -> None:
    create(
        apiserver,
        limit_range(
            "bounds",
            {
                "type": "Container",
                "max": {"cpu": "500m"},
                "min": {"memory": "100Mi"},
                "maxLimitRequestRatio": {"cpu": "2"},
            },
        ),
    )
    assert refused(apiserver, pod("big", {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}})) == (
        'pods "big" is forbidden: maximum cpu usage per Container is 500m, but limit is 1'
    )
    small = {"limits": {"cpu": "500m"}, "requests": {"cpu": "250m", "memory": "50Mi"}}
    assert refused(apiserver, pod("small", small)) == (
        'pods "small" is forbidden: minimum memory usage per Container is 100Mi, but request is 50Mi'
    )
    assert refused(apiserver, pod("skewed", {"limits": {"cpu": "400m"}, "requests": {"cpu": "100m"}})) == (
        'pods "skewed" is forbidden: '
        "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000"
    )
    everything = {"limits": {"cpu": "1"}, "requests": {"cpu": "100m", "memory": "50Mi"}}
    assert refused(apiserver, pod("all", everything)) == (
        'pods "all" is forbidden: [minimum memory usage per Container is 100Mi, but request is 50Mi, '
        "maximum cpu usage per Container is 500m, but limit is 1, "
        "cpu max limit to request ratio per Container is 2, but provided ratio is 10.000000]"
    )
    # Within bounds, with the defaults the LimitRange implies (max as the limit, min as the request).
    fits = create(apiserver, pod("fits", {}))
    assert fits["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m"},
        "requests": {"cpu": "500m", "memory": "100Mi"},
    }


def test_pod_limits_sum_containers_and_claims_are_bounded(apiserver: RunningServer) -> None:
    create(
        apiserver,
        limit_range(
            "totals",
            {"type": "Pod", "max": {"cpu": "1"}},
            {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "2Gi"}},
        ),
    )
    each = {"limits": {"cpu": "600m"}}
    assert refused(apiserver, pod("pair", each, each)) == (
        'pods "pair" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m'
    )
    half = {"limits": {"cpu": "500m"}}
    create(apiserver, pod("halves", half, half))
    assert refused(apiserver, pod("unbounded", {})) == (
        'pods "unbounded" is forbidden: maximum cpu usage per Pod is 1.  No limit is specified'
    )
    assert refused(apiserver, claim("tiny", "500Mi")) == (
        'persistentvolumeclaims "tiny" is forbidden: '
        "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"
    )
    assert refused(apiserver, claim("huge", "5Gi")) == (
        'persistentvolumeclaims "huge" is forbidden: '
        "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi"
    )
    create(apiserver, claim("right", "1536Mi"))


def test_several_limit_ranges_apply_in_turn_and_deleting_one_takes_effect(apiserver: RunningServer) -> None:
    create(
        apiserver,
        limit_range("a-cpu", {"type": "Container", "default": {"cpu": "300m"}, "max": {"cpu": "1"}}),
    )
    create(
        apiserver,
        limit_range(
            "b-mem", {"type": "Container", "defaultRequest": {"memory": "64Mi"}, "max": {"memory": "1Gi"}}
        ),
    )
    both = create(apiserver, pod("both", {}))
    assert both["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "300m", "memory": "1Gi"},
        "requests": {"cpu": "300m", "memory": "64Mi"},
    }
    # The first LimitRange the pod breaks refuses it.
    greedy = {"limits": {"cpu": "2", "memory": "2Gi"}}
    assert refused(apiserver, pod("greedy", greedy)) == (
        'pods "greedy" is forbidden: maximum cpu usage per Container is 1, but limit is 2'
    )
    apiserver.kubectl("delete", "limitrange", "a-cpu")
    assert refused(apiserver, pod("greedy", greedy)) == (
        'pods "greedy" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi'
    )
    apiserver.kubectl("delete", "limitrange", "b-mem")
    create(apiserver, pod("greedy", greedy))
    # Every LimitRange's defaults are in before any is checked, whatever order they are listed in.
    create(apiserver, limit_range("0-pod", {"type": "Pod", "max": {"memory": "1Gi"}}))
    create(apiserver, limit_range("z-mem", {"type": "Container", "default": {"memory": "256Mi"}}))
    late = create(apiserver, pod("late", {}))
    assert late["spec"]["containers"][0]["resources"]["limits"] == {"memory": "256Mi"}
