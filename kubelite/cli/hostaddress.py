"""The host's primary IPv4 address: the one on the interface of its default route.

A server bound to every address (0.0.0.0) must still advertise one that others can reach; with no --node-ip
that is this one, as k3s chooses it. It is read from the kernel's routing table and the interface itself,
so finding it sends nothing on the network.
"""

from __future__ import annotations

import fcntl
import socket
import struct
from pathlib import Path

_ROUTES = Path("/proc/net/route")
_SIOCGIFADDR = 0x8915  # Linux ioctl: the IPv4 address of an interface


def default_route_interface(routes: str) -> str | None:
    """The interface of the lowest-metric default route in /proc/net/route's text; None if there is none."""
    best: tuple[int, str] | None = None
    for line in routes.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or fields[1] != "00000000" or fields[7] != "00000000":
            continue
        metric = int(fields[6])
        if best is None or metric < best[0]:
            best = (metric, fields[0])
    return best[1] if best else None


def interface_address(interface: str) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            answer = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", interface.encode()[:15]))
        except OSError:
            return None  # the interface has no IPv4 address
    return socket.inet_ntoa(answer[20:24])


def primary_address() -> str | None:
    """None when the host has no default route (or this is not Linux)."""
    try:
        interface = default_route_interface(_ROUTES.read_text())
    except OSError:
        return None
    return interface_address(interface) if interface else None
