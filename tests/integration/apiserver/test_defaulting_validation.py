"""Every write is defaulted and validated as upstream does it: what kubectl reads back and the 422s it
prints, server-side apply against defaulted objects, and the fields the server fills on create."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.integration.apiserver.conftest import RunningServer

DEPLOYMENT_WITH_PORTS = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
        - containerPort: 53
          protocol: UDP
"""


def test_server_dry_run_shows_upstreams_defaults(apiserver: RunningServer) -> None:
    out = apiserver.kubectl("create", "deployment", "web", "--image=nginx", "--dry-run=server", "-o", "yaml")
    deployment = yaml.safe_load(out.stdout)
    spec = deployment["spec"]
    assert (spec["replicas"], spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (1, 10, 600)
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    pod = spec["template"]["spec"]
    assert (pod["restartPolicy"], pod["dnsPolicy"], pod["schedulerName"]) == (
        "Always",
        "ClusterFirst",
        "default-scheduler",
    )
    assert pod["terminationGracePeriodSeconds"] == 30 and pod["securityContext"] == {}
    assert pod["containers"][0] == {
        "name": "nginx",
        "image": "nginx",
        "imagePullPolicy": "Always",
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    assert deployment["metadata"]["generation"] == 1 and deployment["status"] == {}
    missing = apiserver.kubectl("get", "deploy", "web", check=False)
    assert "NotFound" in missing.stderr  # a dry run stores nothing


def test_invalid_pod_is_refused_with_upstreams_words(apiserver: RunningServer) -> None:
    manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: c}]\n"
    refused = apiserver.kubectl("create", "-f", "-", input=manifest, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == 'The Pod "x" is invalid: spec.containers[0].image: Required value'


def test_pod_updates_of_forbidden_fields_are_invalid(apiserver: RunningServer) -> None:
    apiserver.kubectl("run", "p", "--image=nginx")
    refused = apiserver.kubectl("patch", "pod", "p", "-p", '{"spec":{"restartPolicy":"Never"}}', check=False)
    assert refused.stderr.startswith(
        'The Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than '
    )
    assert '+ spec.restartPolicy: "Never"' in refused.stderr
    # The image may change, and the defaults stored with the pod are not a change.
    apiserver.kubectl("set", "image", "pod/p", "p=nginx:1.27")
    pod = json.loads(apiserver.kubectl("get", "pod", "p", "-o", "json").stdout)
    assert pod["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert "generation" not in pod["metadata"] and pod["status"]["qosClass"] == "BestEffort"


def test_server_side_apply_keys_ports_by_their_default_protocol(apiserver: RunningServer) -> None:
    for _ in range(2):
        apiserver.kubectl("apply", "--server-side", "-f", "-", input=DEPLOYMENT_WITH_PORTS)
    deployment = json.loads(apiserver.kubectl("get", "deploy", "web", "-o", "json").stdout)
    ports = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert ports == [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 53, "protocol": "UDP"}]
    assert deployment["metadata"]["generation"] == 1


def test_jobs_select_their_pods_by_uid(apiserver: RunningServer) -> None:
    apiserver.kubectl("create", "job", "j", "--image=busybox")
    job = json.loads(apiserver.kubectl("get", "job", "j", "-o", "json").stdout)
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["batch.kubernetes.io/job-name"] == "j" and labels["controller-uid"] == uid


def test_service_names_are_dns_1035_labels(apiserver: RunningServer) -> None:
    refused = apiserver.kubectl("create", "service", "clusterip", "1abc", "--tcp=80", check=False)
    assert (
        'Service "1abc" is invalid: metadata.name: Invalid value: "1abc": a DNS-1035 label' in refused.stderr
    )


def test_each_problem_is_reported_once(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())
    body: dict[str, Any] = {
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
        "data": {"k": "v"},
    }
    core.create_namespaced_config_map("default", body)
    core.delete_namespaced_config_map("held", "default")
    with pytest.raises(client.ApiException) as adding:
        patch = {"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}
        core.patch_namespaced_config_map("held", "default", patch)
    causes = json.loads(adding.value.body)["details"]["causes"]
    assert causes == [
        {
            "reason": "FieldValueForbidden",
            "message": "Forbidden: no new finalizers can be added if the object is being deleted, "
            'found new finalizers []string{"example.com/more"}',
            "field": "metadata.finalizers",
        }
    ]


def test_apply_conflicts_name_their_cause_reason(apiserver: RunningServer) -> None:
    apps = client.AppsV1Api(apiserver.python_client())
    manifest = yaml.safe_load(DEPLOYMENT_WITH_PORTS)
    manifest["spec"]["replicas"] = 2
    apply = {"field_manager": "first", "_content_type": "application/apply-patch+yaml"}
    apps.patch_namespaced_deployment("web", "default", manifest, **apply)
    manifest["spec"]["replicas"] = 3
    with pytest.raises(client.ApiException) as conflict:
        apps.patch_namespaced_deployment("web", "default", manifest, **{**apply, "field_manager": "second"})
    assert conflict.value.status == 409
    assert json.loads(conflict.value.body)["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "first"', "field": ".spec.replicas"}
    ]
