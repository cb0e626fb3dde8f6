"""A kubectl session as a user runs it: discovery, create/apply, every get format, describe, label/annotate,
the three patch types, edit, scale, delete with each propagation policy, explain, events, wait, raw paths.

One server for the module (tests/e2e/conftest.py); each test works in a namespace named after it. The
expected outputs are what kubectl 1.32 prints against an upstream API server.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Kubectl


def pod(name: str, *, labels: dict[str, str] | None = None, node: str | None = None) -> str:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
    }
    if node:
        obj["spec"]["nodeName"] = node
    return yaml.safe_dump(obj)


def configmap(name: str, *, labels: dict[str, str] | None = None, data: dict[str, str] | None = None) -> str:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}},
        "data": data if data is not None else {"greeting": "hello"},
    }
    return yaml.safe_dump(obj)


def deployment(name: str = "web", *, replicas: int = 2, image: str = "nginx:1.27") -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
"""


def event(name: str, *, namespace: str, pod_name: str, uid: str, reason: str, message: str) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    obj = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": pod_name,
            "namespace": namespace,
            "uid": uid,
        },
        "reason": reason,
        "message": message,
        "type": "Normal",
        "source": {"component": "default-scheduler"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    return yaml.safe_dump(obj)


def create(kubectl: Kubectl, *manifests: str) -> str:
    return kubectl("create", "-f", "-", input="\n---\n".join(manifests))


def as_json(kubectl: Kubectl, *args: str) -> Any:
    return json.loads(kubectl("get", *args, "-o", "json"))


def columns(line: str) -> list[str]:
    """Cells of a kubectl table line; headers such as LAST SEEN hold one space, cells are two apart."""
    return re.split(r"\s{2,}", line.strip())


def first_column(table: str) -> list[str]:
    return [line.split()[0] for line in table.splitlines()[1:]]


# --- discovery ----------------------------------------------------------------------------------------


def test_version_reports_kubernetes_1_32(kubectl: Kubectl) -> None:
    server = json.loads(kubectl("version", "-o", "json"))["serverVersion"]
    assert (server["major"], server["minor"]) == ("1", "32")
    assert server["gitVersion"].startswith("v1.32.")
    assert "Server Version: v1.32." in kubectl("version")


SHORT_NAMES = {
    "po": ("pods", "v1"),
    "deploy": ("deployments", "apps/v1"),
    "svc": ("services", "v1"),
    "cm": ("configmaps", "v1"),
    "ns": ("namespaces", "v1"),
    "pv": ("persistentvolumes", "v1"),
    "pvc": ("persistentvolumeclaims", "v1"),
    "rs": ("replicasets", "apps/v1"),
    "rc": ("replicationcontrollers", "v1"),
    "ds": ("daemonsets", "apps/v1"),
    "sts": ("statefulsets", "apps/v1"),
    "cj": ("cronjobs", "batch/v1"),
    "quota": ("resourcequotas", "v1"),
    "limits": ("limitranges", "v1"),
    "sa": ("serviceaccounts", "v1"),
    "ep": ("endpoints", "v1"),
    "ev": ("events", "v1"),
    "no": ("nodes", "v1"),
    "sc": ("storageclasses", "storage.k8s.io/v1"),
}


def test_api_resources_and_short_names(kubectl: Kubectl) -> None:
    lines = kubectl("api-resources").splitlines()
    header = lines[0]
    assert header.split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    short_at, version_at, scope_at = (header.index(c) for c in ("SHORTNAMES", "APIVERSION", "NAMESPACED"))
    found: dict[str, tuple[str, str]] = {}
    for line in lines[1:]:
        for short in filter(None, line[short_at:version_at].strip().split(",")):
            # "ev" is both core and events.k8s.io Events; the core group comes first, as upstream.
            found.setdefault(short, (line[:short_at].strip(), line[version_at:scope_at].strip()))
    assert {short: found.get(short) for short in SHORT_NAMES} == SHORT_NAMES

    cluster_scoped = kubectl("api-resources", "--namespaced=false", "-o", "name").split()
    assert {"namespaces", "nodes", "persistentvolumes", "storageclasses.storage.k8s.io"} <= set(
        cluster_scoped
    )
    assert "pods" not in cluster_scoped
    apps = kubectl("api-resources", "--api-group=apps", "-o", "name").split()
    assert sorted(apps) == [
        "controllerrevisions.apps",
        "daemonsets.apps",
        "deployments.apps",
        "replicasets.apps",
        "statefulsets.apps",
    ]

    create(kubectl, configmap("by-short-name"))
    create(kubectl, pod("by-short-name"))
    kubectl("apply", "-f", "-", input=deployment("by-short-name"))
    namespaced = [
        s
        for s, (name, _) in SHORT_NAMES.items()
        if name not in ("namespaces", "nodes", "persistentvolumes", "storageclasses")
    ]
    names = kubectl("get", ",".join(namespaced), "-o", "name").split()
    assert {"configmap/by-short-name", "pod/by-short-name", "deployment.apps/by-short-name"} <= set(names)
    assert f"namespace/{kubectl.namespace}" in kubectl("get", "ns,pv,no,sc", "-o", "name").split()
    # `all` is the category: pods and deployments are in it, configmaps are not.
    in_all = kubectl("get", "all", "-o", "name").split()
    assert "pod/by-short-name" in in_all and "deployment.apps/by-short-name" in in_all
    assert "configmap/by-short-name" not in in_all


# --- create and apply ---------------------------------------------------------------------------------


def test_create_then_apply_reports_what_changed(kubectl: Kubectl, tmp_path: Path) -> None:
    assert create(kubectl, pod("solo")).strip() == "pod/solo created"
    again = kubectl.run("create", "-f", "-", input=pod("solo"))
    assert again.returncode == 1
    assert 'Error from server (AlreadyExists): error when creating "STDIN": pods "solo" already exists' in (
        again.stderr
    )

    manifest = tmp_path / "web.yaml"
    manifest.write_text(deployment(image="nginx:1.27"))
    assert kubectl("apply", "-f", str(manifest)).strip() == "deployment.apps/web created"
    assert kubectl("apply", "-f", str(manifest)).strip() == "deployment.apps/web unchanged"
    manifest.write_text(deployment(image="nginx:1.28"))
    assert kubectl("apply", "-f", str(manifest)).strip() == "deployment.apps/web configured"
    applied = as_json(kubectl, "deploy", "web")
    assert applied["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert applied["metadata"]["generation"] == 2
    last = json.loads(applied["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"

    settings = tmp_path / "settings.yaml"
    settings.write_text(configmap("settings", data={"mode": "fast"}))
    assert (
        kubectl("apply", "--server-side", "-f", str(settings)).strip()
        == "configmap/settings serverside-applied"
    )
    first_rv = as_json(kubectl, "cm", "settings")["metadata"]["resourceVersion"]
    kubectl("apply", "--server-side", "-f", str(settings))
    assert as_json(kubectl, "cm", "settings")["metadata"]["resourceVersion"] == first_rv, (
        "a no-op apply wrote"
    )
    settings.write_text(configmap("settings", data={"mode": "safe", "extra": "1"}))
    kubectl("apply", "--server-side", "-f", str(settings))
    applied = json.loads(kubectl("get", "cm", "settings", "-o", "json", "--show-managed-fields"))
    assert applied["data"] == {"mode": "safe", "extra": "1"}
    managers = {(m["manager"], m["operation"]) for m in applied["metadata"]["managedFields"]}
    assert managers == {("kubectl", "Apply")}


# --- get ----------------------------------------------------------------------------------------------


@pytest.fixture
def three_pods(kubectl: Kubectl) -> Kubectl:
    """a-pod (app=web, tier=front), b-pod (app=web, tier=back), c-pod (app=db, tier=cache)."""
    manifests = [
        pod("b-pod", labels={"app": "web", "tier": "back"}),
        pod("c-pod", labels={"app": "db", "tier": "cache"}),
        pod("a-pod", labels={"app": "web", "tier": "front"}),
    ]
    create(kubectl, *manifests)
    return kubectl


def test_get_tables_and_selectors(three_pods: Kubectl) -> None:
    kubectl = three_pods
    table = kubectl("get", "pods").splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [line.split()[:4] for line in table[1:]] == [
        [n, "0/1", "Pending", "0"] for n in ("a-pod", "b-pod", "c-pod")
    ]
    wide = kubectl("get", "pods", "-o", "wide").splitlines()
    assert columns(wide[0]) == "NAME|READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES".split(
        "|"
    )

    assert first_column(kubectl("get", "pods", "-l", "app=web")) == ["a-pod", "b-pod"]
    assert first_column(kubectl("get", "pods", "-l", "tier in (back,cache)")) == ["b-pod", "c-pod"]
    assert first_column(kubectl("get", "pods", "-l", "app!=web")) == ["c-pod"]
    assert first_column(kubectl("get", "pods", "--field-selector", "metadata.name=b-pod")) == ["b-pod"]
    assert first_column(kubectl("get", "pods", "--field-selector", "status.phase=Pending")) == [
        "a-pod",
        "b-pod",
        "c-pod",
    ]
    none = kubectl.run("get", "pods", "--field-selector", "status.phase=Running", check=True)
    assert none.stdout == "" and f"No resources found in {kubectl.namespace} namespace." in none.stderr

    everywhere = kubectl("get", "pods", "-A").splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert [line.split()[1] for line in everywhere[1:] if line.split()[0] == kubectl.namespace] == [
        "a-pod",
        "b-pod",
        "c-pod",
    ]

    by_tier = kubectl("get", "pods", "--sort-by=.metadata.labels.tier")
    assert first_column(by_tier) == ["b-pod", "c-pod", "a-pod"]
    labelled = kubectl("get", "pods", "--show-labels").splitlines()
    assert labelled[0].split()[-1] == "LABELS"
    assert labelled[1].split()[0] == "a-pod" and labelled[1].split()[-1] == "app=web,tier=front"


def test_get_output_formats(three_pods: Kubectl) -> None:
    kubectl = three_pods
    one = yaml.safe_load(kubectl("get", "pod", "a-pod", "-o", "yaml"))
    assert (one["kind"], one["apiVersion"], one["metadata"]["name"]) == ("Pod", "v1", "a-pod")
    assert one["metadata"]["namespace"] == kubectl.namespace and one["metadata"]["uid"]
    listed = as_json(kubectl, "pods")
    assert listed["kind"] == "List"
    assert [item["metadata"]["name"] for item in listed["items"]] == ["a-pod", "b-pod", "c-pod"]
    assert all(item["kind"] == "Pod" for item in listed["items"])

    names = kubectl("get", "pods", "-o", "jsonpath={.items[*].metadata.name}")
    assert names == "a-pod b-pod c-pod"
    tiers = kubectl(
        "get", "pod", "b-pod", "-o", "jsonpath={.metadata.labels.tier}/{.spec.containers[0].image}"
    )
    assert tiers == "back/nginx:1.27"
    custom = kubectl(
        "get",
        "pods",
        "-o",
        "custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,"
        "PORT:.spec.containers[0].ports[0].containerPort",
    ).splitlines()
    assert [line.split() for line in custom] == [
        ["NAME", "APP", "PORT"],
        ["a-pod", "web", "80"],
        ["b-pod", "web", "80"],
        ["c-pod", "db", "80"],
    ]
    assert kubectl("get", "pods", "-o", "name").split() == ["pod/a-pod", "pod/b-pod", "pod/c-pod"]


def test_get_watch_streams_changes_until_the_request_timeout(kubectl: Kubectl) -> None:
    watcher = kubectl.popen("get", "cm", "-w", "--output-watch-events", "--request-timeout=5s")
    try:
        time.sleep(1.5)  # kubectl starts, lists, then watches from the list's resourceVersion
        create(kubectl, configmap("watched"))
        kubectl("label", "cm", "watched", "seen=yes")
        kubectl("delete", "cm", "watched")
        out, err = watcher.communicate(timeout=20)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["EVENT", "NAME", "DATA", "AGE"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["ADDED", "watched", "1"],
        ["MODIFIED", "watched", "1"],
        ["DELETED", "watched", "1"],
    ]


# --- describe -----------------------------------------------------------------------------------------


def _labels_of(describe: str) -> list[str]:
    """The top-level field names of a describe output, in order."""
    return [line.split(":")[0] for line in describe.splitlines() if line and not line[0].isspace()]


def test_describe_pod_lists_its_events(kubectl: Kubectl) -> None:
    create(kubectl, pod("described", labels={"app": "web"}))
    uid = as_json(kubectl, "pod", "described")["metadata"]["uid"]
    ns = kubectl.namespace
    scheduled = f"Successfully assigned {ns}/described"
    create(
        kubectl,
        event(
            "described.1", namespace=ns, pod_name="described", uid=uid, reason="Scheduled", message=scheduled
        ),
    )
    # An event of an earlier pod with the same name: describe selects by uid, so it stays out.
    earlier = "00000000-0000-0000-0000-000000000000"
    create(
        kubectl,
        event(
            "described.0",
            namespace=ns,
            pod_name="described",
            uid=earlier,
            reason="Killing",
            message="Stopping container main",
        ),
    )

    out = kubectl("describe", "pod", "described")
    order = (
        "Name|Namespace|Node|Labels|Annotations|Status|IP|IPs|Containers|Volumes|QoS Class|Node-Selectors|"
    )
    order += "Tolerations|Events"
    assert [label for label in _labels_of(out) if label in order.split("|")] == order.split("|")
    fields = dict(re.findall(r"^(\w[\w -]*):\s+(.*)$", out, flags=re.MULTILINE))
    assert fields["Name"] == "described" and fields["Namespace"] == ns
    assert fields["Labels"] == "app=web" and fields["Status"] == "Pending"
    assert re.search(r"^  main:\n    Image:\s+nginx:1.27$", out, flags=re.MULTILINE)
    events = out[out.index("\nEvents:") + 1 :].splitlines()
    assert events[1].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert len(events) == 4, "only the event of this pod (by uid) belongs here"
    assert events[3].split()[:2] == ["Normal", "Scheduled"]
    assert events[3].split()[3:] == ["default-scheduler", "Successfully", "assigned", f"{ns}/described"]

    listed = kubectl("events").splitlines()
    assert listed[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert sorted(line.split()[2:4] for line in listed[1:]) == [
        ["Killing", "Pod/described"],
        ["Scheduled", "Pod/described"],
    ]
    assert kubectl("get", "events", "--field-selector", "reason=Scheduled", "-o", "name").split() == [
        "event/described.1"
    ]


def test_describe_deployment_and_configmap(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment())
    out = kubectl("describe", "deployment", "web")
    sections = "Name|Namespace|CreationTimestamp|Labels|Annotations|Selector|Replicas|StrategyType|"
    sections += "MinReadySeconds|Pod Template|Events"
    for section in sections.split("|"):
        assert re.search(rf"^{section}:", out, flags=re.MULTILINE), f"no {section!r} in:\n{out}"
    assert re.search(r"^Selector:\s+app=web$", out, flags=re.MULTILINE)
    assert re.search(
        r"^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$",
        out,
        flags=re.MULTILINE,
    )
    assert re.search(r"^   nginx:\n    Image:\s+nginx:1.27$", out, flags=re.MULTILINE)

    create(kubectl, configmap("described", labels={"app": "web"}, data={"greeting": "hello", "mode": "fast"}))
    out = kubectl("describe", "configmap", "described")
    assert re.search(r"^Name:\s+described$", out, flags=re.MULTILINE)
    assert re.search(r"^Labels:\s+app=web$", out, flags=re.MULTILINE)
    # kubectl prints a ConfigMap's keys in Go map order, which varies from run to run.
    assert "\nData\n====\n" in out
    assert "\ngreeting:\n----\nhello\n" in out and "\nmode:\n----\nfast\n" in out
    assert "\nBinaryData\n====\n" in out
    assert re.search(r"^Events:\s+<none>$", out, flags=re.MULTILINE)


def test_describe_shows_defaulted_fields(kubectl: Kubectl) -> None:
    create(kubectl, pod("defaulted"))
    spec = as_json(kubectl, "pod", "defaulted")["spec"]
    container = spec["containers"][0]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == (
        "Always",
        "ClusterFirst",
        "default-scheduler",
    )
    assert (container["imagePullPolicy"], container["terminationMessagePolicy"]) == ("IfNotPresent", "File")
    assert re.search(r"^    Port:\s+80/TCP$", kubectl("describe", "pod", "defaulted"), flags=re.MULTILINE)

    kubectl("apply", "-f", "-", input=deployment())
    out = kubectl("describe", "deployment", "web")
    assert re.search(r"^StrategyType:\s+RollingUpdate$", out, flags=re.MULTILINE)
    assert re.search(
        r"^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$", out, flags=re.MULTILINE
    )


# --- changing objects ---------------------------------------------------------------------------------


def test_label_and_annotate(kubectl: Kubectl) -> None:
    create(kubectl, configmap("tagged", labels={"app": "web"}))
    assert kubectl("label", "cm", "tagged", "env=prod").strip() == "configmap/tagged labeled"
    refused = kubectl.run("label", "cm", "tagged", "env=dev")
    assert refused.returncode == 1
    assert "error: 'env' already has a value (prod), and --overwrite is false" in refused.stderr
    kubectl("label", "cm", "tagged", "env=dev", "--overwrite")
    assert as_json(kubectl, "cm", "tagged")["metadata"]["labels"] == {"app": "web", "env": "dev"}
    assert kubectl("label", "cm", "tagged", "env-").strip() == "configmap/tagged unlabeled"
    assert as_json(kubectl, "cm", "tagged")["metadata"]["labels"] == {"app": "web"}

    assert kubectl("annotate", "cm", "tagged", "note=hello").strip() == "configmap/tagged annotated"
    assert kubectl.run("annotate", "cm", "tagged", "note=bye").returncode == 1
    kubectl("annotate", "cm", "tagged", "note=bye", "--overwrite")
    assert as_json(kubectl, "cm", "tagged")["metadata"]["annotations"] == {"note": "bye"}
    kubectl("annotate", "cm", "tagged", "note-")
    assert not as_json(kubectl, "cm", "tagged")["metadata"].get("annotations")

    create(kubectl, configmap("other", labels={"app": "web"}))
    assert kubectl("label", "cm", "-l", "app=web", "team=blue").splitlines() == [
        "configmap/other labeled",
        "configmap/tagged labeled",
    ]
    assert first_column(kubectl("get", "cm", "-l", "team=blue")) == ["other", "tagged"]


def test_patch_merge_json_and_strategic(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment())

    def containers() -> list[str]:
        spec = as_json(kubectl, "deploy", "web")["spec"]["template"]["spec"]
        return [c["name"] for c in spec["containers"]]

    assert kubectl("patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":3}}').strip() == (
        "deployment.apps/web patched"
    )
    assert as_json(kubectl, "deploy", "web")["spec"]["replicas"] == 3
    # Strategic merge (kubectl's default type): containers merge by name.
    sidecar = '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}'
    kubectl("patch", "deploy", "web", "-p", sidecar)
    assert containers() == ["sidecar", "nginx"]  # as upstream orders them: the patch's items first
    delete = '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}'
    kubectl("patch", "deploy", "web", "--type=strategic", "-p", delete)
    assert containers() == ["nginx"]
    # A merge patch replaces the whole list.
    kubectl("patch", "deploy", "web", "--type=merge", "-p", sidecar)
    assert containers() == ["sidecar"]
    ops = (
        '[{"op":"replace","path":"/spec/replicas","value":1},'
        '{"op":"add","path":"/metadata/labels/patched","value":"json"}]'
    )
    kubectl("patch", "deploy", "web", "--type=json", "-p", ops)
    patched = as_json(kubectl, "deploy", "web")
    assert patched["spec"]["replicas"] == 1 and patched["metadata"]["labels"]["patched"] == "json"
    no_op = kubectl("patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":1}}')
    assert no_op.strip() == "deployment.apps/web patched (no change)"


def test_edit_with_kube_editor(kubectl: Kubectl, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text(
        "#!/bin/sh\nsed -i -e 's/greeting: hello/greeting: edited/' -e 's/replicas: 2/replicas: 3/' \"$1\"\n"
    )
    editor.chmod(0o755)
    editing = Kubectl(kubectl.server, kubectl.namespace, env={"KUBE_EDITOR": str(editor)})
    create(kubectl, configmap("edited"))
    kubectl("apply", "-f", "-", input=deployment())

    assert editing("edit", "cm", "edited").strip() == "configmap/edited edited"
    assert as_json(kubectl, "cm", "edited")["data"] == {"greeting": "edited"}
    assert editing("edit", "deployment/web").strip() == "deployment.apps/web edited"
    assert as_json(kubectl, "deploy", "web")["spec"]["replicas"] == 3
    unchanged = editing.run("edit", "cm", "edited", check=True)
    assert "Edit cancelled, no changes made." in unchanged.stdout + unchanged.stderr


def test_scale(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=deployment())
    assert kubectl("scale", "deploy", "web", "--replicas=4").strip() == "deployment.apps/web scaled"
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "4"
    stale = kubectl.run("scale", "deploy", "web", "--current-replicas=3", "--replicas=5")
    assert stale.returncode == 1 and "Expected replicas to be 3, was 4" in stale.stderr
    kubectl("scale", "deploy", "web", "--current-replicas=4", "--replicas=0")
    scale = json.loads(
        kubectl("get", "--raw", f"/apis/apps/v1/namespaces/{kubectl.namespace}/deployments/web/scale")
    )
    assert (scale["kind"], scale["apiVersion"], scale["spec"]["replicas"]) == ("Scale", "autoscaling/v1", 0)

    replicaset = deployment("backend").replace("kind: Deployment", "kind: ReplicaSet")
    create(kubectl, replicaset)
    assert kubectl("scale", "rs", "backend", "--replicas=5").strip() == "replicaset.apps/backend scaled"
    assert kubectl("get", "rs", "backend", "-o", "jsonpath={.spec.replicas}") == "5"


def test_delete_records_propagation_and_selects(kubectl: Kubectl) -> None:
    manifests = [
        configmap(n, labels={"group": g})
        for n, g in (("orphaned", "a"), ("background", "a"), ("picked", "b"), ("left", "c"))
    ]
    create(kubectl, *manifests)
    kubectl("apply", "-f", "-", input=deployment())

    assert kubectl("delete", "cm", "orphaned", "--cascade=orphan", "--wait=false").strip() == (
        'configmap "orphaned" deleted'
    )
    orphaned = as_json(kubectl, "cm", "orphaned")["metadata"]
    assert orphaned["finalizers"] == ["orphan"] and orphaned["deletionTimestamp"]
    # Foreground waits for the garbage collector, which is a controller: don't wait for it.
    kubectl("delete", "deploy", "web", "--cascade=foreground", "--wait=false")
    web = as_json(kubectl, "deploy", "web")["metadata"]
    assert web["finalizers"] == ["foregroundDeletion"] and web["deletionTimestamp"]
    kubectl("delete", "cm", "background", "--cascade=background")
    assert kubectl.run("get", "cm", "background").stderr.strip() == (
        'Error from server (NotFound): configmaps "background" not found'
    )

    assert kubectl("delete", "cm", "-l", "group=b").strip() == 'configmap "picked" deleted'
    assert first_column(kubectl("get", "cm")) == ["left", "orphaned"]
    deleted = kubectl("delete", "cm", "--all", "--wait=false").splitlines()
    assert sorted(deleted) == ['configmap "left" deleted', 'configmap "orphaned" deleted']
    # An explicit Background policy replaces the orphan finalizer, so nothing is left to wait for.
    assert "No resources found" in kubectl.run("get", "cm", check=True).stderr

    create(kubectl, pod("bound", node="node-a"))
    kubectl("delete", "pod", "bound", "--wait=false")
    terminating = kubectl("get", "pod", "bound").splitlines()[1].split()
    assert terminating[:3] == ["bound", "0/1", "Terminating"]
    assert as_json(kubectl, "pod", "bound")["metadata"]["deletionGracePeriodSeconds"] == 30
    forced = kubectl.run("delete", "pod", "bound", "--force", "--grace-period=0", check=True)
    assert forced.stdout.strip() == 'pod "bound" force deleted'
    assert "Immediate deletion does not wait for confirmation" in forced.stderr
    assert kubectl.run("get", "pod", "bound").returncode == 1


# --- reading the API ----------------------------------------------------------------------------------


def test_explain(kubectl: Kubectl) -> None:
    containers = kubectl("explain", "pods.spec.containers")
    assert containers.startswith("KIND:       Pod\nVERSION:    v1\n")
    assert "FIELD: containers <[]Container>" in containers
    assert re.search(r"^  image\t<string>$", containers, flags=re.MULTILINE)
    assert re.search(r"^  name\t<string> -required-$", containers, flags=re.MULTILINE)
    strategy = kubectl("explain", "deployment.spec.strategy")
    assert strategy.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n")
    assert "FIELD: strategy <DeploymentStrategy>" in strategy
    assert re.search(r"^  rollingUpdate\t<RollingUpdateDeployment>$", strategy, flags=re.MULTILINE)
    assert re.search(r"^  type\t<string>$", strategy, flags=re.MULTILINE)
    missing = kubectl.run("explain", "pods.spec.nonsense")
    assert missing.returncode == 1 and 'field "nonsense" does not exist' in missing.stderr


def test_wait_for_a_condition_and_a_jsonpath(kubectl: Kubectl) -> None:
    create(kubectl, pod("waited"))

    def later(patch: str) -> threading.Thread:
        def run() -> None:
            time.sleep(1.0)
            kubectl("patch", "pod", "waited", "--subresource=status", "--type=merge", "-p", patch)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    ready = later('{"status":{"conditions":[{"type":"Ready","status":"True"}]}}')
    try:
        out = kubectl("wait", "--for=condition=Ready", "pod/waited", "--timeout=20s", timeout=30)
    finally:
        ready.join()
    assert out.strip() == "pod/waited condition met"

    running = later('{"status":{"phase":"Running"}}')
    try:
        out = kubectl(
            "wait", "--for=jsonpath={.status.phase}=Running", "pod/waited", "--timeout=20s", timeout=30
        )
    finally:
        running.join()
    assert out.strip() == "pod/waited condition met"

    timed_out = kubectl.run("wait", "--for=condition=Initialized", "pod/waited", "--timeout=1s")
    assert timed_out.returncode == 1
    assert "error: timed out waiting for the condition on pods/waited" in timed_out.stderr


def test_get_raw_paths_and_metrics(kubectl: Kubectl) -> None:
    create(kubectl, pod("raw"))
    listed = json.loads(kubectl("get", "--raw", f"/api/v1/namespaces/{kubectl.namespace}/pods"))
    assert listed["kind"] == "PodList" and [p["metadata"]["name"] for p in listed["items"]] == ["raw"]
    assert kubectl("get", "--raw", "/readyz").strip() == "ok"
    metrics = kubectl("get", "--raw", "/metrics")
    assert "# TYPE apiserver_request_total counter" in metrics
    pod_lists = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("apiserver_request_total{") and 'resource="pods"' in line and 'verb="LIST"' in line
    ]
    assert sum(pod_lists) >= 1, metrics[:2000]


# --- per-kind tables, service allocation, imperative create -------------------------------------------


SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
"""

STATEFULSET = (
    deployment("db")
    .replace("kind: Deployment", "kind: StatefulSet")
    .replace("spec:\n  replicas", "spec:\n  serviceName: db\n  replicas")
)


@pytest.mark.parametrize(
    ("resource", "manifest", "header", "row"),
    [
        pytest.param(
            "deployments",
            deployment(),
            ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            ["web", "0/2", "0", "0"],
            id="deployments",
        ),
        pytest.param(
            "replicasets",
            deployment().replace("kind: Deployment", "kind: ReplicaSet"),
            ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            ["web", "2", "0", "0"],
            id="replicasets",
        ),
        pytest.param("statefulsets", STATEFULSET, ["NAME", "READY", "AGE"], ["db", "0/2"], id="statefulsets"),
        pytest.param(
            "services",
            SERVICE,
            ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
            ["web", "ClusterIP"],
            id="services",
        ),
    ],
)
def test_tables_of_other_kinds(
    kubectl: Kubectl, resource: str, manifest: str, header: list[str], row: list[str]
) -> None:
    create(kubectl, manifest)
    lines = kubectl("get", resource).splitlines()
    assert columns(lines[0]) == header
    assert columns(lines[1])[: len(row)] == row


def test_get_events_table(kubectl: Kubectl) -> None:
    create(kubectl, pod("noted"))
    uid = as_json(kubectl, "pod", "noted")["metadata"]["uid"]
    kubectl(
        "create",
        "-f",
        "-",
        input=event(
            "noted.1",
            namespace=kubectl.namespace,
            pod_name="noted",
            uid=uid,
            reason="Pulled",
            message="Image pulled",
        ),
    )
    lines = kubectl("get", "events").splitlines()
    assert columns(lines[0]) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert columns(lines[1])[1:] == ["Normal", "Pulled", "pod/noted", "Image pulled"]


def test_service_gets_a_cluster_ip(kubectl: Kubectl) -> None:
    create(kubectl, SERVICE)
    spec = as_json(kubectl, "svc", "web")["spec"]
    assert spec["type"] == "ClusterIP" and spec["clusterIP"].startswith("10.43.")
    assert spec["clusterIPs"] == [spec["clusterIP"]] and spec["ipFamilies"] == ["IPv4"]
    assert spec["ports"][0]["protocol"] == "TCP"
    row = columns(kubectl("get", "svc", "web").splitlines()[1])
    assert row[:5] == ["web", "ClusterIP", spec["clusterIP"], "<none>", "80/TCP"]


def test_imperative_create_commands(kubectl: Kubectl) -> None:
    assert kubectl("create", "configmap", "made", "--from-literal=greeting=hi").strip() == (
        "configmap/made created"
    )
    assert as_json(kubectl, "cm", "made")["data"] == {"greeting": "hi"}
    assert kubectl("create", "deployment", "made", "--image=nginx:1.27", "--replicas=2").strip() == (
        "deployment.apps/made created"
    )
    assert as_json(kubectl, "deploy", "made")["spec"]["replicas"] == 2
