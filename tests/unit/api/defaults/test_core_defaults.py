"""Defaulted pods, services and the other core kinds, as a 1.32 API server stores them."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from kubelite.api import defaults
from kubelite.api.defaults.pods import image_pull_policy


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    defaults.default(obj)
    return obj


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec},
    }


def test_pod_as_kubectl_run_gets_it_back_before_admission() -> None:
    assert defaulted(pod())["spec"] == {
        "containers": [
            {
                "name": "c",
                "image": "nginx",
                "imagePullPolicy": "Always",
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }
        ],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": True,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
    }


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("docker.io/library/nginx", "Always"),
        ("localhost:5000/team/app", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("localhost:5000/team/app:v2", "IfNotPresent"),
        ("nginx@sha256:" + "ab" * 32, "IfNotPresent"),
        ("Nginx", "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_explicit_values_are_kept() -> None:
    obj = defaulted(pod(restartPolicy="Never", terminationGracePeriodSeconds=0, enableServiceLinks=False))
    assert (
        obj["spec"]["restartPolicy"],
        obj["spec"]["terminationGracePeriodSeconds"],
        obj["spec"]["enableServiceLinks"],
    ) == ("Never", 0, False)


def test_containers_ports_probes_and_env() -> None:
    container = {
        "name": "c",
        "image": "nginx:1.27",
        "ports": [{"containerPort": 80}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 3, "timeoutSeconds": 0},
        "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/stop"}}},
        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
    }
    obj = defaulted(pod(containers=[container]))["spec"]["containers"][0]
    assert obj["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert obj["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert obj["readinessProbe"]["periodSeconds"] == 3
    assert obj["readinessProbe"]["timeoutSeconds"] == 1  # a zero int is unset in Go
    assert obj["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/stop", "scheme": "HTTP"}
    assert obj["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}


def test_volume_sources_get_their_defaults() -> None:
    volumes = [
        {"name": "scratch"},
        {"name": "conf", "configMap": {"name": "app"}},
        {"name": "creds", "secret": {"secretName": "app", "defaultMode": 0o400}},
        {"name": "logs", "hostPath": {"path": "/var/log"}},
        {
            "name": "info",
            "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
        },
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
    ]
    got = {v["name"]: v for v in defaulted(pod(volumes=volumes))["spec"]["volumes"]}
    assert got["scratch"] == {"name": "scratch", "emptyDir": {}}
    assert got["conf"]["configMap"] == {"name": "app", "defaultMode": 420}
    assert got["creds"]["secret"]["defaultMode"] == 0o400
    assert got["logs"]["hostPath"] == {"path": "/var/log", "type": ""}
    assert got["info"]["downwardAPI"] == {
        "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v1"}}],
        "defaultMode": 420,
    }
    assert got["token"]["projected"] == {
        "sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}],
        "defaultMode": 420,
    }


def test_pods_only_defaults() -> None:
    obj = defaulted(
        pod(
            hostNetwork=True,
            containers=[
                {
                    "name": "c",
                    "image": "nginx",
                    "ports": [{"containerPort": 80}],
                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}},
                }
            ],
        )
    )
    container = obj["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert container["ports"][0]["hostPort"] == 80
    template = defaulted(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "r"},
            "spec": {"template": {"spec": pod(hostNetwork=True)["spec"]}},
        }
    )["spec"]["template"]["spec"]
    assert "enableServiceLinks" not in template


def test_service_account_alias() -> None:
    assert defaulted(pod(serviceAccountName="robot"))["spec"]["serviceAccount"] == "robot"
    assert defaulted(pod(serviceAccount="legacy"))["spec"]["serviceAccountName"] == "legacy"


def test_quantities_come_back_canonical() -> None:
    resources = {
        "requests": {"cpu": 0.5, "memory": "1.5Gi", "ephemeral-storage": "1000"},
        "limits": {"cpu": "100u"},
    }
    container = defaulted(pod(containers=[{"name": "c", "image": "x", "resources": resources}]))["spec"][
        "containers"
    ][0]
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1536Mi", "ephemeral-storage": "1k"},
        "limits": {"cpu": "1m"},
    }
    claim = defaulted(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "c"},
            "spec": {"resources": {"requests": {"storage": "1024Mi"}}},
        }
    )
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"


def test_service_as_kubectl_create_service_sends_it() -> None:
    sent = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "my"},
        "spec": {"ports": [{"name": "80-8080", "port": 80, "targetPort": 8080}], "selector": {"app": "my"}},
    }
    obj = defaulted(sent)
    assert obj["spec"] == {
        "ports": [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}],
        "selector": {"app": "my"},
        "sessionAffinity": "None",
        "type": "ClusterIP",
        "internalTrafficPolicy": "Cluster",
    }
    assert obj["status"] == {"loadBalancer": {}}


def test_service_type_specific_defaults() -> None:
    def service(**spec: Any) -> dict[str, Any]:
        return defaulted(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "s"},
                "spec": {"ports": [{"port": 80}], **spec},
            }
        )["spec"]

    load_balancer = service(type="LoadBalancer")
    assert (load_balancer["externalTrafficPolicy"], load_balancer["allocateLoadBalancerNodePorts"]) == (
        "Cluster",
        True,
    )
    assert load_balancer["ports"][0]["targetPort"] == 80
    assert "internalTrafficPolicy" not in service(type="ExternalName", externalName="x.example.com")
    assert service(sessionAffinity="ClientIP")["sessionAffinityConfig"] == {
        "clientIP": {"timeoutSeconds": 10800}
    }
    assert service(clusterIP="10.43.0.10")["clusterIPs"] == ["10.43.0.10"]


def test_namespaces_secrets_volumes_claims_and_limits() -> None:
    namespace = defaulted({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert namespace["status"] == {"phase": "Active"}
    secret = defaulted(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "stringData": {"user": "admin"},
            "data": {"x": "eQ=="},
        }
    )
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "type": "Opaque",
        "data": {"x": "eQ==", "user": base64.b64encode(b"admin").decode()},
    }
    volume = defaulted(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv"},
            "spec": {"hostPath": {"path": "/d"}},
        }
    )
    assert (
        volume["spec"]["persistentVolumeReclaimPolicy"],
        volume["spec"]["volumeMode"],
        volume["status"],
    ) == ("Retain", "Filesystem", {"phase": "Pending"})
    claim = defaulted(
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "spec": {}}
    )
    assert (claim["spec"]["volumeMode"], claim["status"]) == ("Filesystem", {"phase": "Pending"})
    limits = defaulted(
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "l"},
            "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]},
        }
    )
    assert limits["spec"]["limits"][0]["default"] == {"cpu": "2"}
    assert limits["spec"]["limits"][0]["defaultRequest"] == {"cpu": "2", "memory": "64Mi"}
    endpoints = defaulted(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "e"},
            "subsets": [{"ports": [{"port": 80}]}],
        }
    )
    assert endpoints["subsets"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]


def test_unknown_kinds_and_malformed_values_are_left_alone() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"cpu": 0.5}}
    assert defaulted(widget) == widget
    odd = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": "nope", "volumes": [3]},
    }
    assert defaulted(odd)["spec"]["containers"] == "nope"
    bad_quantity = pod(containers=[{"name": "c", "image": "x", "resources": {"limits": {"cpu": "lots"}}}])
    assert defaulted(bad_quantity)["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "lots"}
