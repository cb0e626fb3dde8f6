"""Protobuf request bodies decode into the dicts a JSON body of the same object gives.

Bodies are built field by field with tests/support/protobuf_wire.py (field numbers as in upstream's
generated.proto); the first test uses bytes captured from the real kubectl 1.32.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest

from kubelite.api.schema.protobuf_fields import WireField, message_fields
from kubelite.apiserver import apiwarnings, bodies, errors, protobuf
from tests.support.protobuf_wire import delimited as raw_field
from tests.support.protobuf_wire import (
    envelope,
    int_or_string,
    message,
    number,
    object_meta,
    quantity_map,
    string,
    string_map,
    strings,
    timestamp,
)

# `kubectl create namespace x`, from `kubectl -v=8`'s dump of the request body.
KUBECTL_CREATE_NAMESPACE = bytes.fromhex(
    "6b3873000a0f0a02763112094e616d65737061636512190a110a017812001a0022002a0032003800420012001a020a001a002200"
)


def decode(api_version: str, kind: str, body: bytes) -> dict[str, Any]:
    decoded = protobuf.decode(envelope(api_version, kind, body))
    assert decoded.unknown_fields == []
    return decoded.obj


def test_the_body_kubectl_sends_for_create_namespace() -> None:
    decoded = protobuf.decode(KUBECTL_CREATE_NAMESPACE)
    # As Go's JSON has it: empty strings left out, the zero creationTimestamp null, empty structs kept.
    assert decoded.obj == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "x", "creationTimestamp": None},
        "spec": {},
        "status": {},
    }
    assert decoded.unknown_fields == []


def test_configmap_maps_of_strings_and_bytes() -> None:
    body = b"".join(
        [
            message(1, object_meta("cm", namespace="default", labels={"app": "web"})),
            string_map(2, {"a": "b", "empty": ""}),
            message(3, string(1, "bin"), raw_field(2, b"\x00\xff")),
            number(4, 1),  # immutable, a *bool
        ]
    )
    assert decode("v1", "ConfigMap", body) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "cm",
            "namespace": "default",
            "creationTimestamp": None,
            "labels": {"app": "web"},
        },
        "data": {"a": "b", "empty": ""},
        "binaryData": {"bin": base64.b64encode(b"\x00\xff").decode()},
        "immutable": True,
    }


def test_secret_bytes_are_base64_and_a_missing_map_value_is_empty() -> None:
    body = b"".join(
        [
            message(1, object_meta("s")),
            message(2, string(1, "user"), raw_field(2, b"admin")),
            message(2, string(1, "none")),  # gogo leaves out an empty []byte value
            string(3, "Opaque"),
            string_map(4, {"token": "t"}),
            number(5, 0),  # immutable: false, sent because it is a pointer
        ]
    )
    obj = decode("v1", "Secret", body)
    assert obj["data"] == {"user": base64.b64encode(b"admin").decode(), "none": ""}
    assert obj["type"] == "Opaque"
    assert obj["stringData"] == {"token": "t"}
    assert obj["immutable"] is False


def test_serviceaccount_with_references() -> None:
    body = b"".join(
        [
            message(1, object_meta("sa")),
            message(2, string(1, "Secret"), string(3, "sa-token"), string(2, "")),
            message(3, string(1, "registry")),
            number(4, 0),
        ]
    )
    assert decode("v1", "ServiceAccount", body) == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "sa", "creationTimestamp": None},
        "secrets": [{"kind": "Secret", "name": "sa-token"}],
        "imagePullSecrets": [{"name": "registry"}],
        "automountServiceAccountToken": False,
    }


def test_service_ports_with_int_or_string_target_ports() -> None:
    spec = b"".join(
        [
            message(
                1, string(1, "80-8080"), string(2, "TCP"), number(3, 80), int_or_string(4, 8080), number(5, 0)
            ),
            message(1, string(1, "web"), string(2, "TCP"), number(3, 443), int_or_string(4, "https")),
            string_map(2, {"app": "svc"}),
            string(3, ""),  # clusterIP: a plain string, empty means unset
            string(4, "ClusterIP"),
            string(17, "SingleStack"),  # ipFamilyPolicy, a *string
        ]
    )
    obj = decode("v1", "Service", message(1, object_meta("svc")) + message(2, spec) + message(3))
    assert obj["spec"] == {
        "ports": [
            {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
            {"name": "web", "protocol": "TCP", "port": 443, "targetPort": "https"},
        ],
        "selector": {"app": "svc"},
        "type": "ClusterIP",
        "ipFamilyPolicy": "SingleStack",
    }
    assert obj["status"] == {}


def test_resourcequota_quantities_and_scopes() -> None:
    requirement = message(1, string(1, "PriorityClass"), string(2, "In"), strings(3, "high", "low"))
    spec = quantity_map(1, {"pods": "10", "cpu": "2", "memory": "1Gi"}) + strings(2, "BestEffort")
    spec += message(3, requirement)
    obj = decode("v1", "ResourceQuota", message(1, object_meta("q")) + message(2, spec))
    assert obj["spec"] == {
        "hard": {"pods": "10", "cpu": "2", "memory": "1Gi"},
        "scopes": ["BestEffort"],
        "scopeSelector": {
            "matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high", "low"]}]
        },
    }


def _pod_template(*containers: bytes, restart_policy: str = "") -> bytes:
    spec = b"".join(message(2, container) for container in containers) + string(3, restart_policy)
    return message(1, object_meta(labels={"app": "web"})) + message(2, spec)


def _container(name: str, *command: str, port: int = 0) -> bytes:
    parts = [string(1, name), string(2, "busybox"), strings(3, *command)]
    if port:
        parts.append(message(6, string(1, ""), number(2, 0), number(3, port), string(4, ""), string(5, "")))
    parts += [message(8), string(13, ""), string(14, ""), number(16, 0), number(17, 0), number(18, 0)]
    return b"".join(parts)


def test_deployment_as_kubectl_create_deployment_sends_it() -> None:
    spec = b"".join(
        [
            number(1, 2),
            message(2, string_map(1, {"app": "web"})),
            message(3, _pod_template(_container("busybox", "httpd", "-f", "-p", "8080", port=8080))),
            message(4, string(1, "")),
            number(5, 0),  # minReadySeconds: plain int32, zero means unset
            number(7, 0),
        ]
    )
    obj = decode(
        "apps/v1", "Deployment", message(1, object_meta("web", labels={"app": "web"})) + message(2, spec)
    )
    assert obj["spec"] == {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "busybox",
                        "image": "busybox",
                        "command": ["httpd", "-f", "-p", "8080"],
                        "ports": [{"containerPort": 8080}],
                        "resources": {},
                    }
                ]
            },
        },
        "strategy": {},
    }


def test_pointer_zero_is_kept_and_rolling_update_int_or_string() -> None:
    rolling = message(2, int_or_string(1, 1), int_or_string(2, "25%"))
    spec = number(1, 0) + message(4, string(1, "RollingUpdate") + rolling) + number(9, 600)
    obj = decode("apps/v1", "Deployment", message(1, object_meta("zero")) + message(2, spec))
    assert obj["spec"] == {
        "replicas": 0,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
        "progressDeadlineSeconds": 600,
    }


def test_a_message_field_sent_twice_is_merged_and_the_last_scalar_wins() -> None:
    spec = message(2, number(1, 1)) + message(2, number(7, 1)) + message(2, number(1, 3))
    obj = decode("apps/v1", "Deployment", spec)
    assert obj["spec"] == {"replicas": 3, "paused": True}


def test_job_and_cronjob() -> None:
    job_spec = number(7, 0) + message(6, _pod_template(_container("j", "echo", "hi"), restart_policy="Never"))
    job = decode("batch/v1", "Job", message(1, object_meta("j")) + message(2, job_spec))
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]

    cron_spec = b"".join(
        [
            string(1, "*/5 * * * *"),
            string(8, ""),  # timeZone, a *string: an empty one is still sent on purpose
            string(3, "Forbid"),
            number(4, 0),
            message(5, message(1, object_meta("cj")) + message(2, job_spec)),
            number(6, 3),
        ]
    )
    cron = decode("batch/v1", "CronJob", message(1, object_meta("cj")) + message(2, cron_spec))
    assert cron["spec"]["schedule"] == "*/5 * * * *"
    assert cron["spec"]["timeZone"] == ""
    assert cron["spec"]["suspend"] is False
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["successfulJobsHistoryLimit"] == 3
    template = cron["spec"]["jobTemplate"]
    assert template["metadata"] == {"name": "cj", "creationTimestamp": None}
    assert template["spec"]["backoffLimit"] == 0


def test_owner_references_and_label_selector_expressions() -> None:
    owner = b"".join(
        [
            string(1, "CronJob"),
            string(3, "cj"),
            string(4, "uid-1"),
            string(5, "batch/v1"),
            number(6, 1),
            number(7, 1),
        ]
    )
    meta = object_meta("job-1") + message(13, owner) + strings(14, "example.com/cleanup")
    expression = message(2, string(1, "tier"), string(2, "In"), strings(3, "web", "api"))
    obj = decode("batch/v1", "Job", message(1, meta) + message(2, message(4, expression) + number(5, 1)))
    assert obj["metadata"]["ownerReferences"] == [
        {
            "kind": "CronJob",
            "name": "cj",
            "uid": "uid-1",
            "apiVersion": "batch/v1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert obj["metadata"]["finalizers"] == ["example.com/cleanup"]
    assert obj["spec"]["selector"] == {
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]
    }
    assert obj["spec"]["manualSelector"] is True


def test_embedded_go_structs_are_flattened() -> None:
    # Volume embeds VolumeSource (field 2), ConfigMapVolumeSource embeds LocalObjectReference (field 1),
    # Probe embeds ProbeHandler (field 1).
    volume = string(1, "cfg") + message(2, message(19, message(1, string(1, "app")) + number(3, 0o644)))
    probe = message(1, message(2, string(1, "/healthz") + int_or_string(2, "http"))) + number(2, 5)
    env = message(
        7, string(1, "MODE") + message(3, message(3, message(1, string(1, "app")) + string(2, "mode")))
    )
    container = string(1, "c") + string(2, "busybox") + env + message(10, probe)
    obj = decode("v1", "Pod", message(2, message(1, volume) + message(2, container)))
    assert obj["spec"]["volumes"] == [{"name": "cfg", "configMap": {"name": "app", "defaultMode": 0o644}}]
    assert obj["spec"]["containers"][0]["livenessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "http"},
        "initialDelaySeconds": 5,
    }
    assert obj["spec"]["containers"][0]["env"] == [
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "mode"}}}
    ]


def test_negative_numbers_and_packed_or_unpacked_repeated_integers() -> None:
    packed = raw_field(4, bytes([5, 6]))  # supplementalGroups [5, 6] packed
    security = number(2, 0) + packed + number(4, 7) + number(5, -1)  # runAsUser 0 (a pointer), fsGroup -1
    obj = decode("v1", "Pod", message(2, message(14, security)))
    assert obj["spec"]["securityContext"] == {"runAsUser": 0, "supplementalGroups": [5, 6, 7], "fsGroup": -1}


def test_time_drops_nanoseconds_and_micro_time_keeps_microseconds() -> None:
    meta = string(1, "l") + timestamp(8, 1714564800, 999) + timestamp(9, 0)
    spec = string(1, "node-1") + timestamp(3, 1714564800) + timestamp(4, 1714564800, 123456789)
    obj = decode("coordination.k8s.io/v1", "Lease", message(1, meta) + message(2, spec))
    assert obj["metadata"] == {
        "name": "l",
        "creationTimestamp": "2024-05-01T12:00:00Z",
        "deletionTimestamp": "1970-01-01T00:00:00Z",
    }
    assert obj["spec"] == {
        "holderIdentity": "node-1",
        "acquireTime": "2024-05-01T12:00:00.000000Z",
        "renewTime": "2024-05-01T12:00:00.123456Z",
    }


def test_raw_extension_holds_json_or_a_nested_protobuf_object() -> None:
    as_json = message(2, raw_field(1, json.dumps({"spec": {"replicas": 1}}).encode())) + number(3, 4)
    revision = decode("apps/v1", "ControllerRevision", message(1, object_meta("r")) + as_json)
    assert revision["data"] == {"spec": {"replicas": 1}}
    assert revision["revision"] == 4

    nested = envelope("v1", "ConfigMap", message(1, object_meta("inner")) + string_map(2, {"k": "v"}))
    revision = decode("apps/v1", "ControllerRevision", message(2, raw_field(1, nested)))
    assert revision["data"]["kind"] == "ConfigMap"
    assert revision["data"]["data"] == {"k": "v"}


def test_delete_options_in_any_group_version() -> None:
    body = number(1, 0) + message(2, string(1, "uid-1")) + string(4, "Background") + strings(5, "All")
    assert decode("apps/v1", "DeleteOptions", body) == {
        "apiVersion": "apps/v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-1"},
        "propagationPolicy": "Background",
        "dryRun": ["All"],
    }


def test_unknown_field_numbers_are_reported_with_their_path() -> None:
    body = message(1, object_meta("cm") + string(50, "x")) + string_map(2, {"a": "b"}) + number(99, 1)
    decoded = protobuf.decode(envelope("v1", "ConfigMap", body))
    assert decoded.unknown_fields == ["metadata.(protobuf field 50)", "(protobuf field 99)"]
    assert decoded.obj["data"] == {"a": "b"}


def test_unknown_fields_holding_zero_values_are_not_news() -> None:
    # A newer client sends its plain fields even when unset: empty strings, zeros, empty messages.
    body = message(1, object_meta("cm") + string(50, "")) + number(99, 0) + message(98)
    assert protobuf.decode(envelope("v1", "ConfigMap", body)).unknown_fields == []


def test_a_numbered_field_the_schema_lacks_is_unknown_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    def with_extra_field(definition: str) -> Mapping[int, WireField] | None:
        fields = message_fields(definition)
        if definition == "io.k8s.api.core.v1.ConfigMap" and fields is not None:
            return {**fields, 98: WireField("notInTheSchema")}
        return fields

    monkeypatch.setattr(protobuf, "message_fields", with_extra_field)
    decoded = protobuf.decode(envelope("v1", "ConfigMap", message(1, object_meta("cm")) + string(98, "x")))
    assert decoded.unknown_fields == ["notInTheSchema"]


@pytest.mark.parametrize(
    ("raw", "message_part"),
    [
        (b'{"kind": "ConfigMap"}', "protobuf prefix"),
        (envelope("v1", "ConfigMap", message(1, object_meta("cm")))[:-9], "malformed protobuf"),
        (envelope("v1", "ConfigMap", message(1, number(1, 5))), "metadata.name: expected a length-delimited"),
        (
            envelope("v1", "ConfigMap", message(1, raw_field(1, b"\xff\xfe"))),
            "metadata.name: a string that is not",
        ),
        (envelope("v1", "", b""), "Kind' is missing"),
        (envelope("v1", "ConfigMap", b"", content_encoding="gzip"), "contentEncoding 'gzip'"),
        (
            envelope("v1", "Service", message(2, message(1, message(4, number(1, 2))))),
            "spec.ports[0].targetPort",
        ),
        (envelope("v1", "Pod", message(1, timestamp(8, 0, -1))), "nanos -1 out of range"),
        (envelope("v1", "ConfigMap", b"\x08"), "truncated varint"),
    ],
)
def test_malformed_bodies_are_protobuf_errors(raw: bytes, message_part: str) -> None:
    with pytest.raises(protobuf.ProtobufError) as caught:
        protobuf.decode(raw)
    assert message_part in str(caught.value)


def test_objects_nested_without_end_are_refused() -> None:
    nested = envelope("v1", "ConfigMap", b"")
    for _ in range(100):
        nested = envelope("apps/v1", "ControllerRevision", message(2, raw_field(1, nested)))
    with pytest.raises(protobuf.ProtobufError) as caught:
        protobuf.decode(nested)
    assert "nested more than 64 deep" in str(caught.value)


def test_a_kind_without_field_numbers_is_unsupported() -> None:
    with pytest.raises(protobuf.UnsupportedKind) as caught:
        protobuf.decode(envelope("example.com/v1", "Widget", b""))
    assert (caught.value.api_version, caught.value.kind) == ("example.com/v1", "Widget")


# ---- bodies: the HTTP answers ----

UNKNOWN_FIELD_BODY = envelope("v1", "ConfigMap", message(1, object_meta("cm")) + number(99, 1))


def test_unknown_fields_under_strict_are_a_bad_request() -> None:
    with pytest.raises(errors.ApiError) as caught:
        bodies.decode_protobuf(UNKNOWN_FIELD_BODY, field_validation="Strict")
    assert caught.value.code == 400
    assert caught.value.message == 'strict decoding error: unknown field "(protobuf field 99)"'


@pytest.mark.parametrize(("field_validation", "warned"), [("Warn", True), ("Ignore", False)])
def test_unknown_fields_under_warn_and_ignore(field_validation: str, warned: bool) -> None:
    token = apiwarnings.begin()
    try:
        obj = bodies.decode_protobuf(UNKNOWN_FIELD_BODY, field_validation=field_validation)
    finally:
        collected = apiwarnings.end(token)
    assert obj["metadata"]["name"] == "cm"
    assert collected == (['unknown field "(protobuf field 99)"'] if warned else [])


def test_an_unsupported_kind_is_415_naming_it_and_garbage_is_400() -> None:
    with pytest.raises(errors.ApiError) as caught:
        bodies.decode_protobuf(envelope("example.com/v1", "Widget", b""), field_validation="Strict")
    assert caught.value.code == 415
    assert "Widget (example.com/v1)" in caught.value.message
    with pytest.raises(errors.ApiError) as caught:
        bodies.decode(b"k8s\x00\x0a\x05", bodies.PROTOBUF)
    assert caught.value.code == 400
    assert caught.value.message.startswith("unable to decode the protobuf body")
