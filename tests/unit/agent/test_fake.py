"""The fake agent's node objects, taint flags and pod address ranges."""

from __future__ import annotations

import pytest

from kubelite.agent.fake import FakeAgent, FakeAgentConfig, parse_taint
from kubelite.agent.fakepods import fallback_subnet
from kubelite.client import kubeconfig
from kubelite.client.rest import RestClient


def test_taint_flags_parse_like_kubectl_taint() -> None:
    assert parse_taint("dedicated=gpu:NoSchedule") == {
        "key": "dedicated",
        "value": "gpu",
        "effect": "NoSchedule",
    }
    assert parse_taint("spot:PreferNoSchedule") == {"key": "spot", "effect": "PreferNoSchedule"}
    with pytest.raises(ValueError, match="want key"):
        parse_taint("dedicated=gpu")


def test_fallback_pod_ranges_are_distinct_per_node() -> None:
    assert str(fallback_subnet(0)) == "10.42.0.0/24"
    assert str(fallback_subnet(255)) == "10.42.255.0/24"
    assert str(fallback_subnet(256)) == "10.65.0.0/24"
    assert len({fallback_subnet(i) for i in range(5000)}) == 5000


def test_node_objects_carry_capacity_labels_taints_and_a_ready_condition() -> None:
    config = FakeAgentConfig(
        client_config=kubeconfig.KubeConfig(server="https://127.0.0.1:1"),
        nodes=2,
        labels={"zone": "a"},
        taints=({"key": "k", "effect": "NoSchedule"},),
    )
    agent = FakeAgent(RestClient(config.client_config), config)
    assert agent.names == ["fake-node-0", "fake-node-1"]
    node = agent.node_object("fake-node-1")
    assert node["metadata"]["labels"] == {
        "kubernetes.io/hostname": "fake-node-1",
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "type": "kwok",
        "zone": "a",
    }
    assert node["spec"]["taints"] == [{"key": "k", "effect": "NoSchedule"}]
    status = node["status"]
    assert status["allocatable"]["pods"] == "110"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert status["addresses"][0] == {"type": "InternalIP", "address": "127.0.0.1"}
