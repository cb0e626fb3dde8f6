"""The cluster DNS address on a node: carried on the node's loopback, with sockets bound to it there.

Pods reach it through their default route (the bridge's gateway is the node), so the node answers its own
pods' queries. With a node netns, the address and the sockets live in that namespace.
"""

from __future__ import annotations

import socket
import subprocess

from kubelite.agent.network.nsconnect import socket_in_netns

DNS_PORT = 53
LABEL = "lo:kldns"  # marks the address as kubelite's, so uninstall finds it without knowing the service range


def bind_cluster_dns(address: str, node_netns: str | None) -> tuple[socket.socket, socket.socket]:
    """(udp, tcp) sockets bound to address:53 on the node; the address is put on lo if missing."""
    path = None if node_netns is None else node_netns if "/" in node_netns else f"/run/netns/{node_netns}"
    enter = [] if path is None else ["nsenter", f"--net={path}", "--"]
    done = subprocess.run(
        [*enter, "ip", "addr", "replace", f"{address}/32", "dev", "lo", "label", LABEL],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise OSError(f"cannot put the cluster DNS address {address} on the node: {done.stderr.strip()}")
    sockets: list[socket.socket] = []
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            made = socket.socket(socket.AF_INET, kind) if path is None else socket_in_netns(path, type=kind)
            sockets.append(made)
            made.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            made.bind((address, DNS_PORT))
    except OSError:
        for made in sockets:
            made.close()
        raise
    return sockets[0], sockets[1]


def release_cluster_dns() -> list[str]:
    """Uninstall: take the cluster DNS addresses this node put on lo off again; returns them."""
    shown = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", "lo", "label", LABEL],
                           capture_output=True, text=True)
    if shown.returncode != 0:
        raise OSError(f"cannot list the addresses on lo: {shown.stderr.strip()}")
    addresses = [line.split()[3] for line in shown.stdout.splitlines() if len(line.split()) > 3]
    for address in addresses:
        done = subprocess.run(["ip", "addr", "del", address, "dev", "lo"], capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(f"cannot remove the cluster DNS address {address} from lo: {done.stderr.strip()}")
    return addresses
