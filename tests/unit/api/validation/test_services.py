"""Service, Endpoints and EndpointSlice validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .builders import LABEL_MSG, problems, service, stored

CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("a ClusterIP service", service(), []),
    ("ports required", service(ports=[]), [("spec.ports", "Required value")]),
    ("headless services need no ports", service(ports=[], clusterIP="None"), []),
    (
        "ExternalName services need no ports",
        service(ports=[], type="ExternalName", externalName="db.example.com"),
        [],
    ),
    (
        "ExternalName needs a name",
        service(ports=[], type="ExternalName"),
        [("spec.externalName", "Required value")],
    ),
    (
        "port names required when several",
        service(ports=[{"port": 80, "name": "http"}, {"port": 443}]),
        [("spec.ports[1].name", "Required value")],
    ),
    (
        "port names unique",
        service(ports=[{"port": 80, "name": "web"}, {"port": 443, "name": "web"}]),
        [("spec.ports[1].name", 'Duplicate value: "web"')],
    ),
    (
        "port names are DNS labels",
        service(ports=[{"port": 80, "name": "Web"}]),
        [("spec.ports[0].name", f'Invalid value: "Web": {LABEL_MSG}')],
    ),
    (
        "port number",
        service(ports=[{"port": 0}]),
        [
            ("spec.ports[0].port", "Invalid value: 0: must be between 1 and 65535, inclusive"),
            ("spec.ports[0].targetPort", "Invalid value: 0: must be between 1 and 65535, inclusive"),
        ],
    ),
    (
        "duplicate port",
        service(ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]),
        [
            (
                "spec.ports[1]",
                'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
                "Port:80, "
                'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
            )
        ],
    ),
    (
        "type",
        service(type="Internal"),
        [
            (
                "spec.type",
                'Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", '
                '"LoadBalancer", "NodePort"',
            )
        ],
    ),
    (
        "session affinity",
        service(sessionAffinity="Sticky"),
        [("spec.sessionAffinity", 'Unsupported value: "Sticky": supported values: "ClientIP", "None"')],
    ),
    (
        "nodePort on a ClusterIP service",
        service(ports=[{"port": 80, "nodePort": 30080}]),
        [("spec.ports[0].nodePort", "Forbidden: may not be used when `type` is 'ClusterIP'")],
    ),
    ("a NodePort service", service(type="NodePort", ports=[{"port": 80, "nodePort": 30080}]), []),
    (
        "clusterIP must be an IP",
        service(clusterIP="10.0.0.300"),
        [
            (
                "spec.clusterIPs[0]",
                'Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
            )
        ],
    ),
    (
        "headless LoadBalancer",
        service(type="LoadBalancer", clusterIP="None"),
        [
            (
                "spec.clusterIPs[0]",
                "Invalid value: \"None\": may not be set to 'None' for LoadBalancer services",
            )
        ],
    ),
    (
        "selector labels",
        service(selector={"app": "web site"}),
        [
            (
                "spec.selector",
                'Invalid value: "web site": a valid label must be an empty string or consist of '
                "alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
                "or 'my_value',  "
                "or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            )
        ],
    ),
]


@pytest.mark.parametrize(("case", "obj", "expected"), CASES, ids=[case[0] for case in CASES])
def test_service_rules(case: str, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(obj) == expected


def _allocated(**spec: Any) -> dict[str, Any]:
    obj = stored(service(**spec))
    obj["spec"].update({"clusterIP": "10.43.0.10", "clusterIPs": ["10.43.0.10"]})
    return obj


def test_the_cluster_ip_never_changes_once_set() -> None:
    old = _allocated()
    new = copy.deepcopy(old)
    new["spec"].update({"clusterIP": "10.43.0.11", "clusterIPs": ["10.43.0.11"]})
    assert problems(new, old) == [
        ("spec.clusterIPs[0]", 'Invalid value: []string{"10.43.0.11"}: may not change once set')
    ]
    unchanged = copy.deepcopy(old)
    unchanged["spec"]["ports"][0]["port"] = 8080
    assert problems(unchanged, old) == []


def test_the_cluster_ip_goes_when_turning_into_external_name() -> None:
    old = _allocated()
    new = copy.deepcopy(old)
    new["spec"] = {"type": "ExternalName", "externalName": "db.example.com", "ports": [{"port": 80}]}
    assert problems(new, old) == []


def test_endpoints_and_endpoint_slices() -> None:
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "default"},
        "subsets": [{"addresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 80}]}],
    }
    assert problems(endpoints) == []
    endpoints["subsets"][0]["addresses"][0]["ip"] = "127.0.0.1"
    assert problems(endpoints) == [
        (
            "subsets[0].addresses[0].ip",
            'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
        )
    ]
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "web-abc", "namespace": "default"},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.42.0.5"]}],
        "ports": [{"port": 80}],
    }
    assert problems(endpoint_slice) == []
    endpoint_slice["endpoints"][0]["addresses"] = ["fd00::5"]
    assert problems(endpoint_slice) == [
        ("endpoints[0].addresses[0]", 'Invalid value: "fd00::5": must be a valid IPv4 address')
    ]
