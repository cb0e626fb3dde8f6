"""Container environments built against a real API server: every valueFrom kind, envFrom, expansion."""

from __future__ import annotations

import base64

import pytest

from kubelite.agent.pods.environment import build_env
from kubelite.agent.volumes.sources import ObjectSource
from kubelite.agent.volumes.types import ConfigError
from kubelite.client.rest import RestClient
from tests.integration.agent.volumes.conftest import ALLOCATABLE, CONFIGMAPS, SECRETS, make_pod


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_every_source_in_order(client: RestClient, namespace: str) -> None:
    await client.create(
        CONFIGMAPS,
        {"metadata": {"name": "cfg"}, "data": {"MODE": "fast", "LEVEL": "3", "2ND": "x", "1ST": "y"}},
        namespace=namespace,
    )
    await client.create(
        SECRETS, {"metadata": {"name": "sec"}, "data": {"PASSWORD": b64("hunter2")}}, namespace=namespace
    )
    container = {
        "envFrom": [
            {"configMapRef": {"name": "cfg"}},
            {"prefix": "S_", "secretRef": {"name": "sec"}},
            {"configMapRef": {"name": "absent", "optional": True}},
        ],
        "env": [
            {"name": "LEVEL", "value": "override"},
            {"name": "URL", "value": "http://$(HOST):$(PORT)/$(MODE)/$$(MODE)/$(UNKNOWN)"},
            {"name": "HOST", "value": "db"},
            {"name": "EMPTY", "value": ""},
            {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "MODE"}}},
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "PASSWORD"}}},
            {
                "name": "SKIPPED",
                "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "NOPE", "optional": True}},
            },
            {
                "name": "SKIPPED2",
                "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k", "optional": True}},
            },
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
            {"name": "NOTE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['note']"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "POD_IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}},
            {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
            {
                "name": "CPU_LIMIT",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "0"}},
            },
            {
                "name": "MEM",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
            },
        ],
        "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "64Mi"}},
    }
    pod = make_pod(
        namespace,
        container=container,
        labels={"tier": "web"},
        annotations={"note": "hello"},
        serviceAccountName="robot",
    )
    env = await build_env(
        client,
        pod,
        pod["spec"]["containers"][0],
        service_env={"PORT": "5432", "MODE": "service-loses"},
        pod_ips=["10.1.0.5", "fd00::5"],
        host_ips=["192.0.2.1"],
        allocatable=ALLOCATABLE,
    )
    assert env.warnings == []
    assert env.variables == [
        ("MODE", "fast"),
        ("LEVEL", "override"),
        ("2ND", "x"),  # relaxed names (1.32): no ConfigMap key is skipped
        ("1ST", "y"),
        ("S_PASSWORD", "hunter2"),
        ("URL", "http://$(HOST):5432/fast/$(MODE)/$(UNKNOWN)"),
        ("HOST", "db"),
        ("EMPTY", ""),
        ("FROM_CM", "fast"),
        ("FROM_SECRET", "hunter2"),
        ("POD", pod["metadata"]["name"]),
        ("NS", namespace),
        ("TIER", "web"),
        ("NOTE", "hello"),
        ("NODE", "n1"),
        ("SA", "robot"),
        ("POD_IP", "10.1.0.5"),
        ("POD_IPS", "10.1.0.5,fd00::5"),
        ("HOST_IP", "192.0.2.1"),
        ("CPU", "250"),
        ("CPU_LIMIT", "2"),
        ("MEM", "64"),
        ("PORT", "5432"),
    ]


async def test_missing_sources(client: RestClient, namespace: str) -> None:
    await client.create(CONFIGMAPS, {"metadata": {"name": "cfg"}, "data": {"A": "1"}}, namespace=namespace)
    await client.create(SECRETS, {"metadata": {"name": "sec"}, "data": {"A": b64("1")}}, namespace=namespace)
    objects = ObjectSource(client)
    cases = [
        (
            {"configMapKeyRef": {"name": "cfg", "key": "FOO"}},
            f"couldn't find key FOO in ConfigMap {namespace}/cfg",
        ),
        ({"secretKeyRef": {"name": "sec", "key": "FOO"}}, f"couldn't find key FOO in Secret {namespace}/sec"),
        ({"configMapKeyRef": {"name": "nope", "key": "A"}}, 'configmap "nope" not found'),
        ({"secretKeyRef": {"name": "nope", "key": "A"}}, 'secret "nope" not found'),
        ({"fieldRef": {"fieldPath": "spec.restartPolicy"}}, "unsupported fieldPath: spec.restartPolicy"),
        ({"resourceFieldRef": {"resource": "limits.gpu"}}, "unsupported container resource : limits.gpu"),
    ]
    for value_from, message in cases:
        pod = make_pod(namespace, container={"env": [{"name": "X", "valueFrom": value_from}]})
        with pytest.raises(ConfigError) as failed:
            await build_env(objects, pod, pod["spec"]["containers"][0], service_env={})
        assert str(failed.value) == message
    pod = make_pod(namespace, container={"envFrom": [{"secretRef": {"name": "nope"}}]})
    with pytest.raises(ConfigError, match=r'^secret "nope" not found$'):
        await build_env(objects, pod, pod["spec"]["containers"][0], service_env={})


async def test_reads_are_shared_for_the_ttl(client: RestClient, namespace: str) -> None:
    cached, fresh = ObjectSource(client, ttl=60), ObjectSource(client, ttl=0)
    assert await cached.configmap(namespace, "later") is None
    await client.create(CONFIGMAPS, {"metadata": {"name": "later"}, "data": {"A": "1"}}, namespace=namespace)
    assert await cached.configmap(namespace, "later") is None  # the miss is remembered too
    found = await fresh.configmap(namespace, "later")
    assert found is not None and found["data"] == {"A": "1"}
