"""The ServiceAccount and DefaultTolerationSeconds admission plugins, through the real API server."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.integration.apiserver.conftest import RunningServer
from tests.support.examples import require_examples

TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def create(server: RunningServer, obj: dict[str, Any], *, check: bool = True) -> Any:
    proc = server.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(obj), check=check)
    return json.loads(proc.stdout) if proc.returncode == 0 else proc


def account(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": "default"},
        **fields,
    }


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}], **spec},
    }


def test_a_pod_runs_as_default_with_api_credentials_in_every_container(apiserver: RunningServer) -> None:
    create(apiserver, account("default"))
    created = create(
        apiserver,
        pod(
            "web",
            initContainers=[{"name": "init", "image": "busybox"}],
            containers=[
                {"name": "app", "image": "nginx"},
                {
                    "name": "own",
                    "image": "nginx",
                    "volumeMounts": [{"name": "mine", "mountPath": TOKEN_PATH}],
                },
            ],
            volumes=[{"name": "mine", "emptyDir": {}}],
        ),
    )
    spec = created["spec"]
    assert spec["serviceAccountName"] == "default" and spec["serviceAccount"] == "default"
    token_volumes = [v for v in spec["volumes"] if v["name"].startswith("kube-api-access-")]
    assert len(token_volumes) == 1
    volume = token_volumes[0]
    assert re.fullmatch(r"kube-api-access-[a-z0-9]{5}", volume["name"])
    sources = volume["projected"]["sources"]
    assert sources[0]["serviceAccountToken"] == {"expirationSeconds": 3607, "path": "token"}
    assert sources[1]["configMap"] == {
        "name": "kube-root-ca.crt",
        "items": [{"key": "ca.crt", "path": "ca.crt"}],
    }
    assert sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.namespace"
    expected = {"name": volume["name"], "readOnly": True, "mountPath": TOKEN_PATH}
    assert spec["initContainers"][0]["volumeMounts"] == [expected]
    assert spec["containers"][0]["volumeMounts"] == [expected]
    # A container with its own mount at the path keeps it.
    assert spec["containers"][1]["volumeMounts"] == [{"name": "mine", "mountPath": TOKEN_PATH}]


def test_automount_can_be_turned_off_by_the_account_or_the_pod(apiserver: RunningServer) -> None:
    create(apiserver, account("quiet", automountServiceAccountToken=False))
    create(apiserver, account("default"))
    by_account = create(apiserver, pod("by-account", serviceAccountName="quiet"))["spec"]
    by_pod = create(apiserver, pod("by-pod", automountServiceAccountToken=False))["spec"]
    overridden = create(
        apiserver, pod("overridden", serviceAccountName="quiet", automountServiceAccountToken=True)
    )
    for spec in (by_account, by_pod):
        assert "volumes" not in spec and "volumeMounts" not in spec["containers"][0]
    assert overridden["spec"]["containers"][0]["volumeMounts"][0]["mountPath"] == TOKEN_PATH


def test_a_pod_naming_a_missing_account_is_forbidden(apiserver: RunningServer) -> None:
    proc = create(apiserver, pod("orphan", serviceAccountName="ghost"), check=False)
    assert proc.returncode != 0
    assert (
        'pods "orphan" is forbidden: error looking up service account default/ghost: '
        'serviceaccount "ghost" not found'
    ) in proc.stderr


def test_projected_token_manifest_is_accepted(apiserver: RunningServer) -> None:
    manifest = require_examples() / "pods" / "pod-projected-svc-token.yaml"
    proc = apiserver.kubectl("apply", "--dry-run=server", "-f", str(manifest), "-o", "json")
    assert json.loads(proc.stdout)["spec"]["serviceAccountName"] == "default"


def test_pods_tolerate_node_trouble_for_five_minutes_unless_they_say_otherwise(
    apiserver: RunningServer,
) -> None:
    plain = create(apiserver, pod("plain"))["spec"]["tolerations"]
    assert plain == [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
    ]
    own = {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 60,
    }
    patient = create(apiserver, pod("patient", tolerations=[own]))["spec"]["tolerations"]
    assert patient == [
        own,
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    everything = [{"operator": "Exists"}]
    assert create(apiserver, pod("tolerant", tolerations=everything))["spec"]["tolerations"] == everything
