"""The root-ca-cert-publisher against the real API server: every namespace holds the cluster CA."""

from __future__ import annotations

import json

from tests.integration.apiserver.conftest import RunningServer
from tests.integration.controllers.test_housekeeping import eventually
from tests.support.running_controllers import RunningControllers


def root_ca(server: RunningServer, namespace: str) -> str | None:
    proc = server.kubectl("get", "configmap", "kube-root-ca.crt", "-n", namespace, "-o", "json", check=False)
    if proc.returncode != 0:
        assert "NotFound" in proc.stderr, proc.stderr
        return None
    data: dict[str, str] = json.loads(proc.stdout).get("data") or {}
    return data.get("ca.crt")


def test_every_namespace_gets_the_cluster_ca_back_even_after_tampering(apiserver: RunningServer) -> None:
    ca = apiserver.ca_cert.read_text()
    with RunningControllers(apiserver.kubeconfig, names={"root-ca-cert-publisher"}):
        apiserver.kubectl("create", "namespace", "team")
        for namespace in ("default", "kube-system", "team"):
            eventually(lambda ns=namespace: root_ca(apiserver, ns) == ca, what=f"the CA in {namespace}")
        patch = json.dumps({"data": {"ca.crt": "tampered"}})
        apiserver.kubectl("patch", "configmap", "kube-root-ca.crt", "-n", "team", "-p", patch)
        eventually(lambda: root_ca(apiserver, "team") == ca, what="the CA restored")
        apiserver.kubectl("delete", "configmap", "kube-root-ca.crt", "-n", "team")
        eventually(lambda: root_ca(apiserver, "team") == ca, what="the CA re-created")
