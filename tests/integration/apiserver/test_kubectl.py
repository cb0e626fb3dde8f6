"""The real kubectl (1.32) against a running server: what users type, what they read back."""

from __future__ import annotations

import json
import time
from typing import Any

import yaml

from tests.integration.apiserver.conftest import RunningServer

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  labels: {{app: web}}
data:
  greeting: hello
"""

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: main
    image: nginx:1.27
"""


def test_version_parses_as_1_32(apiserver: RunningServer) -> None:
    out = json.loads(apiserver.kubectl("version", "-o", "json").stdout)
    assert out["serverVersion"]["gitVersion"] == "v1.32.4+kubelite"
    assert (out["serverVersion"]["major"], out["serverVersion"]["minor"]) == ("1", "32")


def test_api_resources_come_from_aggregated_discovery(apiserver: RunningServer) -> None:
    out = apiserver.kubectl("api-resources").stdout
    rows = {tuple(line.split()[:1]) for line in out.splitlines()[1:]}
    assert {("pods",), ("configmaps",), ("namespaces",), ("deployments",)} <= rows
    assert "apps/v1" in out
    assert "cm" in apiserver.kubectl("api-resources", "--api-group=", "-o", "wide").stdout


def test_configmap_create_get_label_delete(apiserver: RunningServer) -> None:
    created = apiserver.kubectl("create", "-f", "-", "--validate=false", input=CONFIGMAP.format(name="web"))
    assert created.stdout.strip() == "configmap/web created"

    obj = yaml.safe_load(apiserver.kubectl("get", "configmap", "web", "-o", "yaml").stdout)
    assert obj["data"] == {"greeting": "hello"}
    assert obj["metadata"]["uid"] and obj["metadata"]["resourceVersion"].isdigit()
    assert obj["metadata"]["creationTimestamp"].endswith("Z")

    table = apiserver.kubectl("get", "cm", "web").stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"]
    assert table[1].split()[:2] == ["web", "1"]

    apiserver.kubectl("label", "cm", "web", "tier=front")
    labelled = apiserver.kubectl("get", "cm", "-l", "tier in (front,back)", "--show-labels").stdout
    assert "app=web,tier=front" in labelled
    as_json = json.loads(apiserver.kubectl("get", "cm", "-l", "tier!=front", "-o", "json").stdout)
    assert "web" not in [i["metadata"]["name"] for i in as_json["items"]]

    assert apiserver.kubectl("delete", "cm", "web").stdout.strip() == 'configmap "web" deleted'
    missing = apiserver.kubectl("get", "cm", "web", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): configmaps "web" not found'


def test_create_twice_is_already_exists(apiserver: RunningServer) -> None:
    apiserver.kubectl("create", "-f", "-", "--validate=false", input=CONFIGMAP.format(name="twice"))
    again = apiserver.kubectl(
        "create", "-f", "-", "--validate=false", input=CONFIGMAP.format(name="twice"), check=False
    )
    assert again.returncode == 1
    assert (
        'Error from server (AlreadyExists): error when creating "STDIN": configmaps "twice" already exists'
        in again.stderr
    )


def test_pods_print_ready_status_restarts(apiserver: RunningServer) -> None:
    apiserver.kubectl("create", "-f", "-", "--validate=false", input=POD.format(name="nginx"))
    lines = apiserver.kubectl("get", "pods").stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[1].split()[:4] == ["nginx", "0/1", "Pending", "0"]
    wide = apiserver.kubectl("get", "pods", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
        "READINESS",
        "GATES",
    ]
    assert wide[1].split()[5:] == ["<none>"] * 4
    all_ns = apiserver.kubectl("get", "pods", "-A").stdout.splitlines()
    assert all_ns[1].split()[:2] == ["default", "nginx"]
    sorted_out = apiserver.kubectl("get", "pods", "--sort-by=.metadata.name").stdout
    assert "nginx" in sorted_out
    apiserver.kubectl("delete", "pod", "nginx", "--wait=true", timeout=30)
    assert "No resources found" in apiserver.kubectl("get", "pods").stderr


def test_get_watch_streams_changes(apiserver: RunningServer) -> None:
    watcher = apiserver.kubectl_popen("get", "cm", "-w", "--output-watch-events")
    try:
        time.sleep(1.5)  # let the list + watch start
        apiserver.kubectl("create", "-f", "-", "--validate=false", input=CONFIGMAP.format(name="watched"))
        apiserver.kubectl("label", "cm", "watched", "x=y")
        apiserver.kubectl("delete", "cm", "watched")
        time.sleep(1.5)
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
    events = [line.split()[:2] for line in out.splitlines() if "watched" in line]
    assert events == [["ADDED", "watched"], ["MODIFIED", "watched"], ["DELETED", "watched"]]


def test_namespace_lifecycle(apiserver: RunningServer) -> None:
    apiserver.kubectl(
        "create",
        "-f",
        "-",
        "--validate=false",
        input="apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n",
    )
    assert apiserver.kubectl("get", "ns", "team").stdout.splitlines()[1].split()[:2] == ["team", "Active"]
    apiserver.kubectl(
        "create", "-n", "team", "-f", "-", "--validate=false", input=CONFIGMAP.format(name="inside")
    )

    apiserver.kubectl("delete", "ns", "team", "--wait=false")
    assert apiserver.kubectl("get", "ns", "team").stdout.splitlines()[1].split()[:2] == [
        "team",
        "Terminating",
    ]
    refused = apiserver.kubectl(
        "create",
        "-n",
        "team",
        "-f",
        "-",
        "--validate=false",
        input=CONFIGMAP.format(name="late"),
        check=False,
    )
    assert (
        'Error from server (Forbidden): error when creating "STDIN": configmaps "late" is forbidden: '
        "unable to create new content in namespace team because it is being terminated"
    ) in refused.stderr

    missing = apiserver.kubectl(
        "create",
        "-n",
        "nowhere",
        "-f",
        "-",
        "--validate=false",
        input=CONFIGMAP.format(name="x"),
        check=False,
    )
    assert (
        'Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found'
        in missing.stderr
    )

    protected = apiserver.kubectl("delete", "ns", "default", check=False)
    assert (
        'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted'
        in protected.stderr
    )


def test_chunked_list_pages_with_continue(apiserver: RunningServer) -> None:
    manifest = "\n---\n".join(CONFIGMAP.format(name=f"page-{i}") for i in range(7))
    apiserver.kubectl("create", "-f", "-", "--validate=false", input=manifest)
    run = apiserver.kubectl("get", "cm", "--chunk-size=2", "-o", "name", "-v=6")
    names = [line for line in run.stdout.splitlines() if "page-" in line]
    assert names == [f"configmap/page-{i}" for i in range(7)]
    assert run.stderr.count("continue=") >= 3


def test_unauthenticated_kubectl_is_told_to_log_in(apiserver: RunningServer) -> None:
    config = yaml.safe_load(apiserver.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": "wrong"}
    bad = apiserver.data_dir / "bad-kubeconfig.yaml"
    bad.write_text(yaml.safe_dump(config))
    out = apiserver.kubectl("--kubeconfig", str(bad), "get", "pods", check=False)
    assert out.returncode == 1
    # kubectl words a 401 during discovery generically, as it does against any cluster.
    assert "error: You must be logged in to the server" in out.stderr


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:{tag}
        ports:
        - containerPort: 80
"""


def test_create_validates_fields_on_the_server(apiserver: RunningServer) -> None:
    apiserver.kubectl("create", "-f", "-", input=CONFIGMAP.format(name="strict"))
    bogus = CONFIGMAP.format(name="bogus") + "bogus: 1\n"
    refused = apiserver.kubectl("create", "-f", "-", input=bogus, check=False)
    expected = (
        'error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: '
        'strict decoding error: unknown field "bogus"'
    )
    assert f"Error from server (BadRequest): {expected}" in refused.stderr
    warned = apiserver.kubectl(
        "create", "--validate=warn", "-f", "-", input=CONFIGMAP.format(name="w") + "bogus: 1\n"
    )
    assert 'Warning: unknown field "bogus"' in warned.stderr
    assert "FIELD: containers <[]Container>" in apiserver.kubectl("explain", "pod.spec.containers").stdout


def _deployment(apiserver: RunningServer) -> dict[str, object]:
    out: dict[str, object] = json.loads(
        apiserver.kubectl("get", "deploy", "web", "-o", "json", "--show-managed-fields").stdout
    )
    return out


def test_client_side_apply_patches_strategically(apiserver: RunningServer) -> None:
    assert (
        "created"
        in apiserver.kubectl("apply", "-f", "-", input=DEPLOYMENT.format(replicas=2, tag="1.27")).stdout
    )
    assert (
        "configured"
        in apiserver.kubectl("apply", "-f", "-", input=DEPLOYMENT.format(replicas=3, tag="1.28")).stdout
    )
    assert (
        "unchanged"
        in apiserver.kubectl("apply", "-f", "-", input=DEPLOYMENT.format(replicas=3, tag="1.28")).stdout
    )
    deployment: Any = _deployment(apiserver)
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert deployment["metadata"]["generation"] == 2


def test_server_side_apply_conflicts_and_force(apiserver: RunningServer) -> None:
    manifest = DEPLOYMENT.format(replicas=2, tag="1.27")
    assert (
        "serverside-applied" in apiserver.kubectl("apply", "--server-side", "-f", "-", input=manifest).stdout
    )
    apiserver.kubectl("patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":5}}')
    conflict = apiserver.kubectl("apply", "--server-side", "-f", "-", input=manifest, check=False)
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-patch" using apps/v1: .spec.replicas'
        in conflict.stderr
    )
    apiserver.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest)
    deployment: Any = _deployment(apiserver)
    assert deployment["spec"]["replicas"] == 2
    managers = {(m["manager"], m["operation"]) for m in deployment["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers


def test_scale_subresource(apiserver: RunningServer) -> None:
    apiserver.kubectl("apply", "-f", "-", input=DEPLOYMENT.format(replicas=2, tag="1.27"))
    apiserver.kubectl("scale", "deploy", "web", "--replicas=4")
    apiserver.kubectl("scale", "deploy", "web", "--current-replicas=4", "--replicas=6")
    stale = apiserver.kubectl("scale", "deploy", "web", "--current-replicas=4", "--replicas=7", check=False)
    assert "Expected replicas to be 4, was 6" in stale.stderr
    scale = json.loads(
        apiserver.kubectl("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale").stdout
    )
    assert (
        scale["kind"] == "Scale"
        and scale["spec"]["replicas"] == 6
        and scale["status"]["selector"] == "app=web"
    )
