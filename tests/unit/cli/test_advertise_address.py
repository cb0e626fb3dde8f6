"""What `kubelite server` advertises: --node-ip, else the host's primary address when bound to 0.0.0.0."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.cli import server
from kubelite.cli.hostaddress import default_route_interface
from kubelite.cli.server import ServerConfig

ROUTES = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
)


def config(**overrides: str) -> ServerConfig:
    settings = {"bind_address": "127.0.0.1", "node_ip": "", "service_cidr": "10.43.0.0/16", **overrides}
    return ServerConfig(data_dir=Path("unused"), datastore_endpoint="", port=6443, **settings)


def test_the_lowest_metric_default_route_names_the_interface() -> None:
    assert default_route_interface(ROUTES) == "eth0"
    assert default_route_interface(ROUTES.splitlines()[0] + "\n" + ROUTES.splitlines()[3]) is None


def test_advertised_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "primary_address", lambda: "192.0.2.7")
    assert config(bind_address="0.0.0.0", node_ip="10.0.0.5").advertise_address == "10.0.0.5"
    assert config(bind_address="0.0.0.0").advertise_address == "192.0.2.7"
    assert config().advertise_address is None  # a specific bind address is what clients reach


def test_the_node_port_range_defaults_to_k3s_range() -> None:
    assert config().service_node_port_range == "30000-32767"
