"""Service address allocation: cluster IPs from the service CIDR, node ports from 30000-32767, the
`kubernetes` and `kube-dns` Services, and reservations that survive restarts and races."""

from __future__ import annotations

import ipaddress
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.integration.apiserver.conftest import RunningServer, start_server, stop_server

SERVICE = """
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: {type}
  selector: {{app: web}}
  ports:
  - port: 80
    targetPort: 8080
"""
RANGE = ipaddress.ip_network("10.43.0.0/16")


def _service_manifest(name: str, *, type: str = "ClusterIP", **spec: Any) -> str:
    manifest = yaml.safe_load(SERVICE.format(name=name, type=type))
    for key, value in spec.items():
        if key == "nodePort":
            manifest["spec"]["ports"][0]["nodePort"] = value
        else:
            manifest["spec"][key] = value
    return yaml.safe_dump(manifest)


def _create(apiserver: RunningServer, name: str, **spec: Any) -> dict[str, Any]:
    apiserver.kubectl("create", "-f", "-", input=_service_manifest(name, **spec))
    return _get(apiserver, name)


def _get(apiserver: RunningServer, name: str, namespace: str = "default") -> dict[str, Any]:
    out: dict[str, Any] = json.loads(
        apiserver.kubectl("get", "svc", name, "-n", namespace, "-o", "json").stdout
    )
    return out


def _refused(apiserver: RunningServer, name: str, **spec: Any) -> str:
    proc = apiserver.kubectl("create", "-f", "-", input=_service_manifest(name, **spec), check=False)
    assert proc.returncode == 1
    return proc.stderr.strip()


def test_cluster_ips_automatic_explicit_taken_and_out_of_range(apiserver: RunningServer) -> None:
    auto = _create(apiserver, "auto")["spec"]
    assert ipaddress.ip_address(auto["clusterIP"]) in RANGE and auto["clusterIP"] != "10.43.0.1"
    assert auto["clusterIPs"] == [auto["clusterIP"]]
    assert (auto["ipFamilies"], auto["ipFamilyPolicy"]) == (["IPv4"], "SingleStack")

    assert _create(apiserver, "explicit", clusterIP="10.43.7.7")["spec"]["clusterIPs"] == ["10.43.7.7"]
    assert _refused(apiserver, "taken", clusterIP="10.43.7.7") == (
        'The Service "taken" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.7.7"}: '
        "failed to allocate IP 10.43.7.7: provided IP is already allocated"
    )
    assert _refused(apiserver, "outside", clusterIP="10.0.0.1") == (
        'The Service "outside" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: '
        "failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. "
        "The range of valid IPs is 10.43.0.0/16"
    )
    assert _refused(apiserver, "v6", clusterIP="fd00::1") == (
        'The Service "v6" is invalid: spec.clusterIPs[0]: Invalid value: []string{"fd00::1"}: '
        "IPv6 is not configured on this cluster"
    )

    # Deleting frees the address: it can be asked for again.
    apiserver.kubectl("delete", "svc", "explicit")
    assert _create(apiserver, "again", clusterIP="10.43.7.7")["spec"]["clusterIP"] == "10.43.7.7"


def test_headless_and_external_name_get_no_address(apiserver: RunningServer) -> None:
    headless = _create(apiserver, "headless", clusterIP="None")["spec"]
    assert (headless["clusterIPs"], headless["ipFamilies"]) == (["None"], ["IPv4"])
    external = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "ext"},
            "spec": {"type": "ExternalName", "externalName": "example.com"},
        }
    )
    apiserver.kubectl("create", "-f", "-", input=external)
    spec = _get(apiserver, "ext")["spec"]
    assert "clusterIP" not in spec and "ipFamilies" not in spec


def test_type_change_to_external_name_releases_the_cluster_ip(apiserver: RunningServer) -> None:
    _create(apiserver, "moving", clusterIP="10.43.9.9")
    patch = '{"spec":{"type":"ExternalName","externalName":"example.com"}}'
    apiserver.kubectl("patch", "svc", "moving", "--type=merge", "-p", patch)
    assert "clusterIP" not in _get(apiserver, "moving")["spec"]
    assert _create(apiserver, "taker", clusterIP="10.43.9.9")["spec"]["clusterIP"] == "10.43.9.9"


def test_node_ports_automatic_explicit_duplicate_and_freed(apiserver: RunningServer) -> None:
    auto = _create(apiserver, "np-auto", type="NodePort")["spec"]
    assert 30000 <= auto["ports"][0]["nodePort"] <= 32767
    assert auto["externalTrafficPolicy"] == "Cluster"

    explicit = _create(apiserver, "np-fixed", type="NodePort", nodePort=30080)["spec"]
    assert explicit["ports"][0]["nodePort"] == 30080
    assert _refused(apiserver, "np-dup", type="NodePort", nodePort=30080) == (
        'The Service "np-dup" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
        "provided port is already allocated"
    )
    assert _refused(apiserver, "np-low", type="NodePort", nodePort=8080) == (
        'The Service "np-low" is invalid: spec.ports[0].nodePort: Invalid value: 8080: '
        "provided port is not in the valid range. The range of valid ports is 30000-32767"
    )

    # Turning the Service into a ClusterIP one gives its node port back.
    apiserver.kubectl("patch", "svc", "np-fixed", "--type=merge", "-p", '{"spec":{"type":"ClusterIP"}}')
    changed = _get(apiserver, "np-fixed")["spec"]
    assert "nodePort" not in changed["ports"][0] and "externalTrafficPolicy" not in changed
    assert (
        _create(apiserver, "np-next", type="NodePort", nodePort=30080)["spec"]["ports"][0]["nodePort"]
        == 30080
    )


def test_updates_keep_allocated_values_they_leave_out(apiserver: RunningServer) -> None:
    created = _create(apiserver, "kept", type="LoadBalancer", externalTrafficPolicy="Local")["spec"]
    assert 30000 <= created["healthCheckNodePort"] <= 32767
    replaced = apiserver.kubectl(
        "replace",
        "-f",
        "-",
        input=_service_manifest("kept", type="LoadBalancer", externalTrafficPolicy="Local"),
    )
    assert replaced.returncode == 0
    after = _get(apiserver, "kept")["spec"]
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"):
        assert after[field] == created[field], field
    assert after["ports"][0]["nodePort"] == created["ports"][0]["nodePort"]


def test_failed_and_dry_run_creates_reserve_nothing(apiserver: RunningServer) -> None:
    refused = _refused(apiserver, "bad", clusterIP="10.43.3.3", sessionAffinity="Sometimes")
    assert 'spec.sessionAffinity: Unsupported value: "Sometimes"' in refused
    apiserver.kubectl(
        "create", "--dry-run=server", "-f", "-", input=_service_manifest("dry", clusterIP="10.43.3.3")
    )
    assert _create(apiserver, "good", clusterIP="10.43.3.3")["spec"]["clusterIP"] == "10.43.3.3"


def test_concurrent_creates_get_distinct_addresses(apiserver: RunningServer) -> None:
    core = client.CoreV1Api(apiserver.python_client())

    def create(i: int) -> str:
        body = {"metadata": {"name": f"svc-{i}"}, "spec": {"ports": [{"port": 80}]}}
        created = core.create_namespaced_service("default", body)
        return str(created.spec.cluster_ip)

    with ThreadPoolExecutor(max_workers=10) as pool:
        addresses = list(pool.map(create, range(50)))
    assert len(set(addresses)) == 50
    assert all(ipaddress.ip_address(a) in RANGE for a in addresses)
    listed = core.list_namespaced_service("default").items
    assert {s.spec.cluster_ip for s in listed if s.metadata.name.startswith("svc-")} == set(addresses)


def test_the_kubernetes_service_points_at_the_api_server(apiserver: RunningServer) -> None:
    port = apiserver.handle.port
    spec = _get(apiserver, "kubernetes")["spec"]
    assert spec["clusterIP"] == "10.43.0.1"
    assert spec["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]
    endpoints = json.loads(apiserver.kubectl("get", "endpoints", "kubernetes", "-o", "json").stdout)
    assert endpoints["subsets"] == [
        {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}
    ]
    slices = json.loads(apiserver.kubectl("get", "endpointslices", "kubernetes", "-o", "json").stdout)
    assert slices["endpoints"][0]["addresses"] == ["127.0.0.1"] and slices["ports"][0]["port"] == port
    assert _refused(apiserver, "squatter", clusterIP="10.43.0.1").endswith("provided IP is already allocated")


def test_reservations_survive_a_restart_and_follow_the_new_port(tmp_path: Path) -> None:
    first, thread = start_server(tmp_path / "data")
    try:
        assert _create(first, "persistent", clusterIP="10.43.4.4")["spec"]["clusterIP"] == "10.43.4.4"
    finally:
        stop_server(first, thread)
    second, thread = start_server(tmp_path / "data")
    try:
        assert _refused(second, "late", clusterIP="10.43.4.4").endswith("provided IP is already allocated")
        assert _get(second, "kubernetes")["spec"]["ports"][0]["targetPort"] == second.handle.port
    finally:
        stop_server(second, thread)


def test_dual_stack_is_refused_on_a_single_stack_cluster(apiserver: RunningServer) -> None:
    assert _refused(apiserver, "dual", ipFamilyPolicy="RequireDualStack") == (
        'The Service "dual" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": '
        "this cluster is not configured for dual-stack services"
    )
    prefer = _create(apiserver, "prefer", ipFamilyPolicy="PreferDualStack")["spec"]
    assert (prefer["ipFamilies"], prefer["ipFamilyPolicy"]) == (["IPv4"], "PreferDualStack")


def _kube_dns(server: RunningServer) -> dict[str, Any]:
    return _get(server, "kube-dns", "kube-system")


def test_kube_dns_holds_the_tenth_address_of_the_range(apiserver: RunningServer) -> None:
    svc = _kube_dns(apiserver)
    assert svc["metadata"]["labels"] == {
        "k8s-app": "kube-dns",
        "kubernetes.io/cluster-service": "true",
        "kubernetes.io/name": "CoreDNS",
    }
    spec = svc["spec"]
    assert (spec["clusterIP"], spec["clusterIPs"], spec["type"]) == (
        "10.43.0.10",
        ["10.43.0.10"],
        "ClusterIP",
    )
    assert spec["selector"] == {"k8s-app": "kube-dns"}
    assert [(p["name"], p["port"], p["protocol"], p["targetPort"]) for p in spec["ports"]] == [
        ("dns", 53, "UDP", 53),
        ("dns-tcp", 53, "TCP", 53),
        ("metrics", 9153, "TCP", 9153),
    ]
    table = apiserver.kubectl("get", "svc", "-n", "kube-system").stdout.splitlines()
    assert table[1].split()[:5] == ["kube-dns", "ClusterIP", "10.43.0.10", "<none>", "53/UDP,53/TCP,9153/TCP"]
    assert _refused(apiserver, "squatter", clusterIP="10.43.0.10").endswith(
        "provided IP is already allocated"
    )


def test_kube_dns_is_repaired_at_restart_and_a_users_service_at_its_address_is_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, thread = start_server(tmp_path / "data", service_cidr="10.96.0.0/16")
    try:
        uid = _kube_dns(first)["metadata"]["uid"]
        assert _kube_dns(first)["spec"]["clusterIP"] == "10.96.0.10"
        patch = '{"metadata":{"labels":{"k8s-app":"changed"}},"spec":{"ports":[{"name":"x","port":1}]}}'
        first.kubectl("patch", "svc", "kube-dns", "-n", "kube-system", "--type=merge", "-p", patch)
    finally:
        stop_server(first, thread)
    second, thread = start_server(tmp_path / "data", service_cidr="10.96.0.0/16")
    try:
        svc = _kube_dns(second)
        assert svc["metadata"]["uid"] == uid and svc["metadata"]["labels"]["k8s-app"] == "kube-dns"
        assert [p["name"] for p in svc["spec"]["ports"]] == ["dns", "dns-tcp", "metrics"]
        assert svc["spec"]["clusterIP"] == "10.96.0.10"
        assert _refused(second, "late", clusterIP="10.96.0.10").endswith("provided IP is already allocated")
        # A user takes the address while kube-dns is gone: the next start keeps the user's Service.
        second.kubectl("delete", "svc", "kube-dns", "-n", "kube-system")
        assert _create(second, "mine", clusterIP="10.96.0.10")["spec"]["clusterIP"] == "10.96.0.10"
    finally:
        stop_server(second, thread)
    caplog.set_level(logging.WARNING, logger="kubelite.apiserver.services.bootstrap")
    third, thread = start_server(tmp_path / "data", service_cidr="10.96.0.0/16")
    try:
        gone = third.kubectl("get", "svc", "kube-dns", "-n", "kube-system", check=False)
        assert gone.returncode == 1 and "NotFound" in gone.stderr
        assert _get(third, "mine")["spec"]["clusterIP"] == "10.96.0.10"
    finally:
        stop_server(third, thread)
    assert any("10.96.0.10 is taken by Service default/mine" in r.getMessage() for r in caplog.records), (
        caplog.text
    )
