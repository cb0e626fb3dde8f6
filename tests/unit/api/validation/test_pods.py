"""Pod validation: each rule with a valid and an invalid case, exact field paths and messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api import defaults, validation

from .builders import LABEL_MSG, SUBDOMAIN_MSG, container, pod, problems, stored

CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("a plain pod", pod(), []),
    ("no containers", pod(containers=[]), [("spec.containers", "Required value")]),
    ("no image", pod(containers=[container(image="")]), [("spec.containers[0].image", "Required value")]),
    (
        "container name not a DNS label",
        pod(containers=[container(name="App_1")]),
        [("spec.containers[0].name", f'Invalid value: "App_1": {LABEL_MSG}')],
    ),
    (
        "container names unique across init and regular containers",
        pod(containers=[container(), container()], initContainers=[container()]),
        [
            ("spec.containers[1].name", 'Duplicate value: "app"'),
            ("spec.initContainers[0].name", 'Duplicate value: "app"'),
        ],
    ),
    ("ports", pod(containers=[container(ports=[{"containerPort": 80, "name": "http"}])]), []),
    (
        "port out of range",
        pod(containers=[container(ports=[{"containerPort": 70000}])]),
        [
            (
                "spec.containers[0].ports[0].containerPort",
                "Invalid value: 70000: must be between 1 and 65535, inclusive",
            )
        ],
    ),
    (
        "port number missing",
        pod(containers=[container(ports=[{"containerPort": 0}])]),
        [("spec.containers[0].ports[0].containerPort", "Required value")],
    ),
    (
        "port names unique",
        pod(
            containers=[
                container(ports=[{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}])
            ]
        ),
        [("spec.containers[0].ports[1].name", 'Duplicate value: "web"')],
    ),
    (
        "port protocol",
        pod(containers=[container(ports=[{"containerPort": 80, "protocol": "HTTP"}])]),
        [
            (
                "spec.containers[0].ports[0].protocol",
                'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
            )
        ],
    ),
    (
        "host ports collide",
        pod(
            containers=[
                container(ports=[{"containerPort": 80, "hostPort": 8080}]),
                container("b", ports=[{"containerPort": 81, "hostPort": 8080}]),
            ]
        ),
        [("spec.containers[1].ports[0].hostPort", 'Duplicate value: "TCP//8080"')],
    ),
    ("env", pod(containers=[container(env=[{"name": "MY.VAR", "value": "1"}])]), []),
    (
        "env name missing",
        pod(containers=[container(env=[{"value": "1"}])]),
        [("spec.containers[0].env[0].name", "Required value")],
    ),
    (
        "env name with =",
        pod(containers=[container(env=[{"name": "A=B"}])]),
        [
            (
                "spec.containers[0].env[0].name",
                'Invalid value: "A=B": a valid environment variable name must consist only of printable '
                "ASCII characters other than '='",
            )
        ],
    ),
    (
        "env value and valueFrom",
        pod(
            containers=[
                container(
                    env=[
                        {"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
                    ]
                )
            ]
        ),
        [
            (
                "spec.containers[0].env[0].valueFrom",
                'Invalid value: "": may not be specified when `value` is not empty',
            )
        ],
    ),
    (
        "env field path (spec.host is the old name of spec.nodeName)",
        pod(
            containers=[container(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.host"}}}])]
        ),
        [],
    ),
    (
        "env field path the downward API has but not for env",
        pod(
            containers=[
                container(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}}])
            ]
        ),
        [
            (
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
                'Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", '
                '"metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", '
                '"status.hostIPs", '
                '"status.podIP", "status.podIPs"',
            )
        ],
    ),
    (
        "env field path the downward API does not have",
        pod(
            containers=[container(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.nope"}}}])]
        ),
        [
            (
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
                'Invalid value: "spec.nope": error converting fieldPath: field label not supported: '
                "spec.nope",
            )
        ],
    ),
    (
        "volumes and mounts",
        pod(
            volumes=[{"name": "data"}],
            containers=[container(volumeMounts=[{"name": "data", "mountPath": "/data"}])],
        ),
        [],
    ),
    (
        "mount of a missing volume",
        pod(containers=[container(volumeMounts=[{"name": "data", "mountPath": "/data"}])]),
        [("spec.containers[0].volumeMounts[0].name", 'Not found: "data"')],
    ),
    (
        "mount paths unique",
        pod(
            volumes=[{"name": "a"}, {"name": "b"}],
            containers=[
                container(volumeMounts=[{"name": "a", "mountPath": "/d"}, {"name": "b", "mountPath": "/d"}])
            ],
        ),
        [("spec.containers[0].volumeMounts[1].mountPath", 'Invalid value: "/d": must be unique')],
    ),
    (
        "volume names unique",
        pod(volumes=[{"name": "data"}, {"name": "data"}]),
        [("spec.volumes[1].name", 'Duplicate value: "data"')],
    ),
    (
        "two volume sources",
        pod(volumes=[{"name": "data", "emptyDir": {}, "configMap": {"name": "c"}}]),
        [("spec.volumes[0].configMap", "Forbidden: may not specify more than 1 volume type")],
    ),
    (
        "configMap volume without a name",
        pod(volumes=[{"name": "conf", "configMap": {}}]),
        [("spec.volumes[0].configMap.name", "Required value")],
    ),
    (
        "file mode",
        pod(volumes=[{"name": "conf", "secret": {"secretName": "s", "defaultMode": 1000}}]),
        [
            (
                "spec.volumes[0].secret.defaultMode",
                "Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
            )
        ],
    ),
    (
        "hostPath type",
        pod(volumes=[{"name": "h", "hostPath": {"path": "/var/log", "type": "Dir"}}]),
        [
            (
                "spec.volumes[0].hostPath.type",
                'Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", '
                '"DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
            )
        ],
    ),
    (
        "requests within limits",
        pod(containers=[container(resources={"requests": {"cpu": "250m"}, "limits": {"cpu": "1"}})]),
        [],
    ),
    (
        "requests above limits",
        pod(
            containers=[
                container(
                    resources={
                        "requests": {"cpu": "2", "memory": "1Gi"},
                        "limits": {"cpu": "500m", "memory": "512Mi"},
                    }
                )
            ]
        ),
        [
            (
                "spec.containers[0].resources.requests",
                'Invalid value: "2": must be less than or equal to cpu limit of 500m',
            ),
            (
                "spec.containers[0].resources.requests",
                'Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi',
            ),
        ],
    ),
    (
        "negative request",
        pod(containers=[container(resources={"requests": {"memory": "-1"}})]),
        [
            (
                "spec.containers[0].resources.requests[memory]",
                'Invalid value: "-1": must be greater than or equal to 0',
            )
        ],
    ),
    (
        "unknown resource (a pod's requests default to its limits, so both are reported)",
        pod(containers=[container(resources={"limits": {"gpu": "1"}})]),
        [
            (
                "spec.containers[0].resources.limits[gpu]",
                'Invalid value: "gpu": must be a standard resource type or fully qualified',
            ),
            (
                "spec.containers[0].resources.limits[gpu]",
                'Invalid value: "gpu": must be a standard resource for containers',
            ),
            (
                "spec.containers[0].resources.requests[gpu]",
                'Invalid value: "gpu": must be a standard resource type or fully qualified',
            ),
            (
                "spec.containers[0].resources.requests[gpu]",
                'Invalid value: "gpu": must be a standard resource for containers',
            ),
        ],
    ),
    (
        "extended resources cannot be overcommitted",
        pod(
            containers=[
                container(
                    resources={"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "2"}}
                )
            ]
        ),
        [
            (
                "spec.containers[0].resources.requests",
                'Invalid value: "1": must be equal to example.com/gpu limit of 2',
            )
        ],
    ),
    (
        "restartPolicy",
        pod(restartPolicy="Sometimes"),
        [
            (
                "spec.restartPolicy",
                'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
            )
        ],
    ),
    (
        "dnsPolicy",
        pod(dnsPolicy="Cluster"),
        [
            (
                "spec.dnsPolicy",
                'Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", '
                '"Default", "None"',
            )
        ],
    ),
    (
        "dnsPolicy None needs a dnsConfig",
        pod(dnsPolicy="None"),
        [("spec.dnsConfig", "Required value: must provide `dnsConfig` when `dnsPolicy` is None")],
    ),
    (
        "liveness probe",
        pod(containers=[container(livenessProbe={"httpGet": {"port": 8080}, "successThreshold": 2})]),
        [("spec.containers[0].livenessProbe.successThreshold", "Invalid value: 2: must be 1")],
    ),
    (
        "probe without a handler",
        pod(containers=[container(readinessProbe={"periodSeconds": 5})]),
        [("spec.containers[0].readinessProbe", "Required value: must specify a handler type")],
    ),
    (
        "probe port name",
        pod(containers=[container(readinessProbe={"tcpSocket": {"port": "web_port"}})]),
        [
            (
                "spec.containers[0].readinessProbe.tcpSocket.port",
                'Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and '
                "hyphens (-)",
            )
        ],
    ),
    (
        "probes on plain init containers",
        pod(initContainers=[container("init", livenessProbe={"exec": {"command": ["true"]}})]),
        [
            (
                "spec.initContainers[0].livenessProbe",
                "Forbidden: may not be set for init containers without restartPolicy=Always",
            )
        ],
    ),
    (
        "sidecar probes",
        pod(
            initContainers=[
                container("side", restartPolicy="Always", livenessProbe={"exec": {"command": ["true"]}})
            ]
        ),
        [],
    ),
    (
        "toleration operator",
        pod(tolerations=[{"key": "k", "operator": "Gt", "value": "1"}]),
        [("spec.tolerations[0].operator", 'Unsupported value: "Gt": supported values: "Equal", "Exists"')],
    ),
    (
        "toleration seconds need NoExecute",
        pod(tolerations=[{"key": "k", "operator": "Exists", "tolerationSeconds": 30}]),
        [
            (
                "spec.tolerations[0].effect",
                "Invalid value: \"\": effect must be 'NoExecute' when `tolerationSeconds` is set",
            )
        ],
    ),
    (
        "node affinity needs terms",
        pod(
            affinity={
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}
            }
        ),
        [
            (
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
                "Required value: must have at least one node selector term",
            )
        ],
    ),
    (
        "hostNetwork ports",
        pod(hostNetwork=True, containers=[container(ports=[{"containerPort": 80, "hostPort": 8080}])]),
        [
            (
                "spec.containers[0].ports[0].hostPort",
                "Invalid value: 8080: must match `containerPort` when `hostNetwork` is true",
            )
        ],
    ),
    (
        "activeDeadlineSeconds",
        pod(activeDeadlineSeconds=0),
        [("spec.activeDeadlineSeconds", "Invalid value: 0: must be between 1 and 2147483647, inclusive")],
    ),
    ("nodeName", pod(nodeName="Node_1"), [("spec.nodeName", f'Invalid value: "Node_1": {SUBDOMAIN_MSG}')]),
    (
        "image with spaces",
        pod(containers=[container(image=" nginx")]),
        [
            (
                "spec.containers[0].image",
                'Invalid value: " nginx": must not have leading or trailing whitespace',
            )
        ],
    ),
    (
        "ephemeral containers on create",
        pod(ephemeralContainers=[container("debug")]),
        [("spec.ephemeralContainers", "Forbidden: cannot be set on create")],
    ),
]


@pytest.mark.parametrize(("case", "obj", "expected"), CASES, ids=[case[0] for case in CASES])
def test_pod_rules(case: str, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(obj) == expected


def test_causes_carry_upstreams_reasons() -> None:
    obj = pod(
        containers=[container(image="", ports=[{"containerPort": 80, "protocol": "HTTP"}])],
        restartPolicy="Sometimes",
    )
    defaults.default(obj)
    assert [c.reason for c in validation.validate_create(obj)] == [
        "FieldValueRequired",
        "FieldValueNotSupported",
        "FieldValueNotSupported",
    ]


UPDATABLE = (
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _changed(old: dict[str, Any], **spec: Any) -> dict[str, Any]:
    new = copy.deepcopy(old)
    new["spec"].update(spec)
    return new


def test_a_pods_image_may_change() -> None:
    old = stored(pod())
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert problems(new, old) == []


def test_other_pod_spec_fields_may_not_change() -> None:
    old = stored(pod())
    found = problems(_changed(old, dnsPolicy="Default"), old)
    assert len(found) == 1
    field, message = found[0]
    assert field == "spec"
    assert message.startswith(f"Forbidden: pod updates may not change fields other than {UPDATABLE}\n")
    assert '- spec.dnsPolicy: "ClusterFirst"\n+ spec.dnsPolicy: "Default"' in message


def test_pod_updates_may_not_add_containers() -> None:
    old = stored(pod())
    new = _changed(old, containers=[*old["spec"]["containers"], container("b")])
    assert problems(new, old) == [
        ("spec.containers", "Forbidden: pod updates may not add or remove containers")
    ]


def test_active_deadline_may_only_shrink() -> None:
    old = stored(pod(activeDeadlineSeconds=60))
    assert problems(_changed(old, activeDeadlineSeconds=30), old) == []
    assert problems(_changed(old, activeDeadlineSeconds=90), old) == [
        ("spec.activeDeadlineSeconds", "Invalid value: 90: must be less than or equal to previous value")
    ]


def test_tolerations_may_only_be_added() -> None:
    toleration = {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
    old = stored(pod(tolerations=[toleration]))
    extra = {"key": "j", "operator": "Exists"}
    assert problems(_changed(old, tolerations=[{**toleration, "tolerationSeconds": 20}, extra]), old) == []
    assert problems(_changed(old, tolerations=[extra]), old) == [
        (
            "spec.tolerations",
            "Forbidden: existing toleration can not be modified except its tolerationSeconds",
        )
    ]


def test_status_writes_cannot_move_the_pod() -> None:
    old = stored(pod(nodeName="node-1"))
    new = _changed(old, nodeName="node-2")
    new["status"] = {"phase": "Running"}
    assert problems(new, old, subresource="status") == [
        ("status.nodeName", "Forbidden: may not be changed directly")
    ]
    assert problems(_changed(old, nodeName="node-1"), old, subresource="status") == []


def test_bindings_name_a_node() -> None:
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"}, "target": {"kind": "Pod"}}
    assert [(c.field, c.message) for c in validation.validate_create(binding)] == [
        ("target.kind", 'Unsupported value: "Pod": supported values: "Node", "<empty>"'),
        ("target.name", "Required value"),
    ]
    assert validation.validate_create({**binding, "target": {"kind": "Node", "name": "node-1"}}) == []
