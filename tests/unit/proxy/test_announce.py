"""The layer-2 election of LoadBalancer addresses (pure: every node must compute the same owner)."""

from __future__ import annotations

import socket
import struct
from typing import Any

from kubelite.proxy.announce import (
    EXCLUDE_LABEL,
    arp_frames,
    assignments,
    candidate_nodes,
    elect,
    election_key,
    label_for,
)

NODES = frozenset({"server", "agent0", "agent1"})


def node(name: str, ready: str = "True", **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }


def lb_service(
    name: str = "front", ips: tuple[str, ...] = ("192.168.77.200",), **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "default", "name": name},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.43.0.20", "ports": [{"port": 80}], **spec},
        "status": {"loadBalancer": {"ingress": [{"ip": ip} for ip in ips]}},
    }


def slice_(service: str, *endpoints: tuple[str, str, bool]) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": "default",
            "name": f"{service}-x",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
        "endpoints": [
            {"addresses": [ip], "nodeName": where, "conditions": {"ready": ready}}
            for ip, where, ready in endpoints
        ],
    }


def test_the_owner_is_the_lowest_hash_of_node_and_ip_whatever_the_order() -> None:
    ip = "192.168.77.200"
    expected = min(NODES, key=lambda n: election_key(n, ip))
    assert elect(ip, ["server", "agent0", "agent1"]) == elect(ip, ["agent1", "server", "agent0"]) == expected
    assert elect(ip, []) is None


def test_addresses_spread_over_nodes_and_only_an_owner_leaving_moves_one() -> None:
    ips = [f"192.168.77.{200 + i}" for i in range(21)]
    owners = {ip: elect(ip, NODES) for ip in ips}
    assert set(owners.values()) == NODES  # per-address election, not one node for all
    gone = "agent0"
    for ip, owner in owners.items():
        moved = elect(ip, NODES - {gone})
        assert moved == owner if owner != gone else moved in NODES - {gone}


def test_candidates_are_ready_nodes_not_excluded_from_load_balancers() -> None:
    nodes = [
        node("a"),
        node("b", ready="False"),
        node("c", **{EXCLUDE_LABEL: ""}),
        {"metadata": {"name": "d"}},
    ]
    assert candidate_nodes(nodes) == {"a"}


def test_cluster_policy_elects_among_all_candidates_once_any_endpoint_is_ready() -> None:
    services = [lb_service(ips=("192.168.77.200", "192.168.77.201"))]
    ready = [slice_("front", ("10.42.1.5", "agent0", True))]
    won = assignments(services, ready, NODES)
    assert {ip: owner for ip, (_, owner) in won.items()} == {
        ip: elect(ip, NODES) for ip in ("192.168.77.200", "192.168.77.201")
    }
    assert won["192.168.77.200"][0] is services[0]
    assert assignments(services, [slice_("front", ("10.42.1.5", "agent0", False))], NODES) == {}
    assert assignments(services, [], NODES) == {}  # no endpoints: not announced, as MetalLB


def test_local_policy_elects_only_among_nodes_with_a_ready_local_endpoint() -> None:
    ips = [f"192.168.77.{200 + i}" for i in range(21)]
    services = [lb_service(f"s{i}", (ip,), externalTrafficPolicy="Local") for i, ip in enumerate(ips)]
    slices = [
        slice_(
            f"s{i}",
            ("10.42.1.5", "agent0", True),
            ("10.42.2.5", "agent1", False),
            ("10.42.0.5", "gone", True),
        )
        for i in range(len(ips))
    ]
    won = assignments(services, slices, NODES)
    assert {owner for _, owner in won.values()} == {"agent0"} and set(won) == set(ips)


def test_only_load_balancer_services_with_an_ipv4_ingress_ip_are_announced() -> None:
    ready = [slice_("front", ("10.42.1.5", "agent0", True))]
    assert assignments([lb_service(type="ClusterIP")], ready, NODES) == {}
    assert assignments([lb_service(ips=())], ready, NODES) == {}
    assert assignments([lb_service(ips=("fd00::1",))], ready, NODES) == {}
    assert assignments([lb_service()], ready, frozenset()) == {}  # no Ready node


def test_gratuitous_arp_frames_claim_the_address_for_the_interfaces_mac() -> None:
    mac = bytes.fromhex("02aabbccddee")
    request, reply = arp_frames(mac, "192.168.77.200")
    ip = socket.inet_aton("192.168.77.200")
    for frame, op, target_mac in ((request, 1, b"\0" * 6), (reply, 2, mac)):
        assert (
            len(frame) == 42
            and frame[:6] == b"\xff" * 6
            and frame[6:12] == mac
            and frame[12:14] == b"\x08\x06"
        )
        assert struct.unpack("!HHBBH6s4s6s4s", frame[14:]) == (1, 0x0800, 6, 4, op, mac, ip, target_mac, ip)


def test_the_label_marks_the_address_when_the_interface_name_leaves_room() -> None:
    assert label_for("eth0") == "eth0:kllb"
    assert label_for("enp0s31f6") == "enp0s31f6:kllb"
    assert label_for("enx00e04c680001") is None  # labels are at most 15 characters
