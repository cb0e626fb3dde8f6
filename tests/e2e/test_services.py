"""Services carry real traffic on `kubelite server`: ClusterIP and NodePort through the node's proxy rules.

The server and its node live in a network namespace of this module's own (tests.support.cluster); clients
are pods (`kubectl exec ... wget`) or the node itself (commands run inside that namespace).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.support.cluster import ServerProcess, server_in_netns, wait_for

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox, command: ["sleep", "3600"]}]
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_in_netns(tmp_path_factory.mktemp("services")) as running:
        ready = lambda: " Ready " in running.kubectl("get", "nodes", check=False).stdout  # noqa: E731
        wait_for(ready, within=60, what="the node")
        yield running


@pytest.fixture
def ns(cluster: ServerProcess) -> Iterator[str]:
    name = f"svc-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def _fetch_from_pod(cluster: ServerProcess, ns: str, url: str) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl("-n", ns, "exec", "client", "--", "timeout", "3", "wget", "-q", "-O", "-", url,
                           check=False)


def _fetch_from_node(cluster: ServerProcess, url: str) -> subprocess.CompletedProcess[str]:
    return cluster.netns.run("timeout", "3", "busybox", "wget", "-q", "-O", "-", url, check=False)


def test_cluster_ip_and_node_port_reach_every_ready_replica(cluster: ServerProcess, ns: str) -> None:
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=WEB)
    wait_for(lambda: "2/2" in cluster.kubectl("-n", ns, "get", "deploy", "web").stdout, within=90, what="web")
    wait_for(lambda: "Running" in cluster.kubectl("-n", ns, "get", "pod", "client").stdout, within=60,
             what="the client pod")
    service = json.loads(cluster.kubectl("-n", ns, "get", "svc", "web", "-o", "json").stdout)
    cluster_ip, node_port = service["spec"]["clusterIP"], service["spec"]["ports"][0]["nodePort"]
    replicas = set(cluster.kubectl("-n", ns, "get", "pods", "-l", "app=web", "-o",
                                   "jsonpath={.items[*].metadata.name}").stdout.split())

    def answers(fetch: subprocess.CompletedProcess[str]) -> str:
        assert fetch.returncode == 0, fetch.stderr
        return fetch.stdout.strip()

    wait_for(lambda: _fetch_from_pod(cluster, ns, f"http://{cluster_ip}/").returncode == 0, within=30,
             what="the ClusterIP to answer")
    seen = {answers(_fetch_from_pod(cluster, ns, f"http://{cluster_ip}/")) for _ in range(30)}
    assert seen == replicas  # random balancing reaches both replicas
    assert answers(_fetch_from_node(cluster, f"http://127.0.0.1:{node_port}/")) in replicas
    assert answers(_fetch_from_node(cluster, f"http://{cluster_ip}/")) in replicas

    # No replicas: the Service refuses at once instead of hanging; back to two, it answers again.
    cluster.kubectl("-n", ns, "scale", "deploy", "web", "--replicas=0")
    wait_for(lambda: "refused" in _fetch_from_pod(cluster, ns, f"http://{cluster_ip}/").stderr, within=60,
             what="connection refused")
    cluster.kubectl("-n", ns, "scale", "deploy", "web", "--replicas=2")
    wait_for(lambda: _fetch_from_pod(cluster, ns, f"http://{cluster_ip}/").returncode == 0, within=90,
             what="the Service to answer again")


def test_a_pod_that_turns_unready_gets_no_traffic(cluster: ServerProcess, ns: str) -> None:
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=WEB)
    wait_for(lambda: "2/2" in cluster.kubectl("-n", ns, "get", "deploy", "web").stdout, within=90, what="web")
    wait_for(lambda: "Running" in cluster.kubectl("-n", ns, "get", "pod", "client").stdout, within=60,
             what="the client pod")
    cluster_ip = cluster.kubectl("-n", ns, "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}").stdout
    sick, healthy = cluster.kubectl("-n", ns, "get", "pods", "-l", "app=web", "-o",
                                    "jsonpath={.items[*].metadata.name}").stdout.split()
    cluster.kubectl("-n", ns, "exec", sick, "--", "rm", "/www/index.html")  # its readiness probe now fails
    wait_for(lambda: "1/2" in cluster.kubectl("-n", ns, "get", "deploy", "web").stdout, within=30,
             what="one replica to turn unready")

    def only_healthy() -> bool:
        answers = {_fetch_from_pod(cluster, ns, f"http://{cluster_ip}/").stdout.strip() for _ in range(10)}
        return answers == {healthy}

    wait_for(only_healthy, within=30, what="traffic to reach only the ready replica")


def test_a_service_selects_pods_of_its_own_namespace_only(cluster: ServerProcess, ns: str) -> None:
    other = f"{ns}-other"
    cluster.kubectl("create", "namespace", other)
    try:
        cluster.kubectl("-n", other, "run", "stray", "--image=busybox", "--labels=app=web", "--",
                        "sleep", "3600")
        cluster.kubectl("-n", ns, "create", "service", "clusterip", "web", "--tcp=80:8080")
        wait_for(lambda: "Running" in cluster.kubectl("-n", other, "get", "pod", "stray").stdout, within=60,
                 what="the pod in the other namespace")
        slices = json.loads(cluster.kubectl("-n", ns, "get", "endpointslices", "-o", "json").stdout)
        assert [s.get("endpoints") or [] for s in slices["items"]] == [[]]
    finally:
        cluster.kubectl("delete", "namespace", other, "--wait=false", check=False)


HEADLESS = """
apiVersion: v1
kind: Service
metadata: {name: peers}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
"""


def test_pods_find_services_by_name_through_cluster_dns(cluster: ServerProcess, ns: str) -> None:
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=WEB + "---\n" + HEADLESS)
    wait_for(lambda: "2/2" in cluster.kubectl("-n", ns, "get", "deploy", "web").stdout, within=90, what="web")
    wait_for(lambda: "Running" in cluster.kubectl("-n", ns, "get", "pod", "client").stdout, within=60,
             what="the client pod")
    replicas = set(cluster.kubectl("-n", ns, "get", "pods", "-l", "app=web", "-o",
                                   "jsonpath={.items[*].metadata.name}").stdout.split())
    for url in (f"http://web.{ns}.svc.cluster.local/", "http://web/", f"http://web.{ns}/"):
        fetched = _fetch_from_pod(cluster, ns, url)
        assert fetched.returncode == 0 and fetched.stdout.strip() in replicas, (url, fetched.stderr)

    pod_ips = set(cluster.kubectl("-n", ns, "get", "pods", "-l", "app=web", "-o",
                                  "jsonpath={.items[*].status.podIP}").stdout.split())
    looked_up = cluster.kubectl("-n", ns, "exec", "client", "--", "nslookup", "-type=a",
                                f"peers.{ns}.svc.cluster.local").stdout
    assert pod_ips <= set(looked_up.split()), looked_up  # headless: the ready pods' own addresses
    missing = cluster.kubectl("-n", ns, "exec", "client", "--", "nslookup", f"nothing.{ns}.svc.cluster.local",
                              check=False)
    assert "NXDOMAIN" in missing.stdout + missing.stderr


def test_kube_dns_holds_the_dns_address_and_the_proxy_leaves_it_to_the_node(cluster: ServerProcess,
                                                                             ns: str) -> None:
    shown = cluster.kubectl("get", "svc", "-n", "kube-system", "kube-dns").stdout.splitlines()
    assert shown[1].split()[:5] == ["kube-dns", "ClusterIP", "10.43.0.10", "<none>", "53/UDP,53/TCP,9153/TCP"]
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=WEB)
    wait_for(lambda: "Running" in cluster.kubectl("-n", ns, "get", "pod", "client").stdout, within=60,
             what="the client pod")
    web_ip = cluster.kubectl("-n", ns, "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}").stdout
    wait_for(lambda: f"-d {web_ip}/32" in cluster.netns.run("iptables-save", "-t", "nat").stdout, within=30,
             what="the proxy's rules for web")
    # kube-dns selects no pods: proxied, it would be REJECTed (the node's own lookups refused) or, with a
    # user's CoreDNS pods behind it, DNATed away from the node's DNS server.
    assert "10.43.0.10" not in cluster.netns.run("iptables-save").stdout
    name = f"web.{ns}.svc.cluster.local"
    from_node = cluster.netns.run("timeout", "3", "busybox", "nslookup", name, "10.43.0.10", check=False)
    assert web_ip in from_node.stdout.split(), from_node.stdout + from_node.stderr
    from_pod = cluster.kubectl("-n", ns, "exec", "client", "--", "nslookup", name, check=False)
    assert web_ip in from_pod.stdout.split(), from_pod.stdout + from_pod.stderr
