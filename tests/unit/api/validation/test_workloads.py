"""Deployment, ReplicaSet, DaemonSet, StatefulSet and ReplicationController validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .builders import deployment, problems, stored, template, workload

MISMATCH = "`selector` does not match template `labels`"


def _without_selector(obj: dict[str, Any]) -> dict[str, Any]:
    del obj["spec"]["selector"]
    return obj


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("a deployment", deployment(), []),
    (
        "selector required (and a missing one selects nothing)",
        _without_selector(deployment()),
        [
            ("spec.selector", "Required value"),
            ("spec.template.metadata.labels", f'Invalid value: map[string]string{{"app":"web"}}: {MISMATCH}'),
        ],
    ),
    (
        "selector must match the template",
        deployment(selector={"matchLabels": {"app": "api"}}),
        [("spec.template.metadata.labels", f'Invalid value: map[string]string{{"app":"web"}}: {MISMATCH}')],
    ),
    (
        "empty selector",
        deployment(selector={}),
        [
            (
                "spec.selector",
                "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
                "deployment",
            )
        ],
    ),
    (
        "replicas",
        deployment(replicas=-1),
        [("spec.replicas", "Invalid value: -1: must be greater than or equal to 0")],
    ),
    (
        "templates always restart",
        deployment(template=template(restartPolicy="OnFailure")),
        [("spec.template.spec.restartPolicy", 'Unsupported value: "OnFailure": supported values: "Always"')],
    ),
    (
        "template pod spec is validated",
        deployment(template=template(containers=[{"name": "app"}])),
        [("spec.template.spec.containers[0].image", "Required value")],
    ),
    (
        "template labels are reported on the template's path",
        deployment(
            selector={"matchLabels": {"app": "web"}}, template=template(labels={"app": "web", "v": "a b"})
        ),
        [
            (
                "spec.template.labels",
                'Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric '
                "characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                "'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            )
        ],
    ),
    (
        "rolling update bounds",
        deployment(
            strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "150%", "maxSurge": 0}}
        ),
        [
            (
                "spec.strategy.rollingUpdate.maxUnavailable",
                'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater '
                "than 100%",
            )
        ],
    ),
    (
        "rolling update cannot stand still",
        deployment(strategy={"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}),
        [
            (
                "spec.strategy.rollingUpdate.maxUnavailable",
                'Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when '
                "`maxSurge` is 0",
            )
        ],
    ),
    (
        "Recreate takes no rolling update",
        deployment(strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
        [
            (
                "spec.strategy.rollingUpdate",
                "Forbidden: may not be specified when strategy `type` is 'Recreate'",
            )
        ],
    ),
    (
        "progress deadline beyond minReadySeconds",
        deployment(minReadySeconds=700),
        [("spec.progressDeadlineSeconds", "Invalid value: 600: must be greater than minReadySeconds")],
    ),
    ("a replica set", workload("ReplicaSet"), []),
    ("a daemon set", workload("DaemonSet"), []),
    (
        "daemon set rolling update",
        workload(
            "DaemonSet",
            updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
        ),
        [
            (
                "spec.updateStrategy.rollingUpdate.maxSurge",
                'Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when '
                "maxUnavailable is non-zero",
            )
        ],
    ),
    ("a stateful set", workload("StatefulSet", serviceName="web"), []),
    (
        "stateful set pod management",
        workload("StatefulSet", podManagementPolicy="Fast"),
        [("spec.podManagementPolicy", "Invalid value: \"Fast\": must be 'OrderedReady' or 'Parallel'")],
    ),
]


@pytest.mark.parametrize(("case", "obj", "expected"), CASES, ids=[case[0] for case in CASES])
def test_workload_rules(case: str, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(obj) == expected


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "DaemonSet"])
def test_selectors_are_immutable_in_apps_v1(kind: str) -> None:
    old = stored(workload(kind))
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "front"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    assert problems(new, old) == [
        (
            "spec.selector",
            'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"front"}, '
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
        )
    ]


def test_deployment_templates_and_replicas_may_change() -> None:
    old = stored(deployment())
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert problems(new, old) == []


def test_stateful_sets_change_only_their_mutable_fields() -> None:
    old = stored(workload("StatefulSet", serviceName="web"))
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    assert problems(new, old) == []
    new["spec"]["serviceName"] = "other"
    assert problems(new, old) == [
        (
            "spec",
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
            "'template', "
            "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        )
    ]


def test_replication_controllers_take_their_selector_from_the_template() -> None:
    controller = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"template": template()},
    }
    assert problems(controller) == []
    controller["spec"]["selector"] = {"app": "other"}
    assert problems(controller) == [
        ("spec.template.metadata.labels", f'Invalid value: map[string]string{{"app":"web"}}: {MISMATCH}')
    ]
