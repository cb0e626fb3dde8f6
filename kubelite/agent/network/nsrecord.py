"""Which network namespace a node's network lives in, recorded in its data dir for `kubelite uninstall`.

The node's network state (bridge, routes, the proxy's chains, the DNS and load-balancer addresses) belongs
to one network namespace: the agent's own, or `--node-netns`. Uninstall must act in that one and no other —
in any other it would tear down a different node's network — so it compares the namespace it runs in with
the recorded one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RECORD = "network-namespace.json"
OWN = "/proc/self/ns/net"


class ElsewhereError(Exception):
    """Uninstall runs in another network namespace than the node's; the message says where to run it."""


def _path(node_netns: str) -> str:
    return node_netns if "/" in node_netns else f"/run/netns/{node_netns}"


def record(agent_dir: Path, node_netns: str | None) -> None:
    """Called by the agent at start: the namespace its node network lives in."""
    where = _path(node_netns) if node_netns else OWN
    agent_dir.mkdir(parents=True, exist_ok=True)
    entry = {"inode": os.stat(where).st_ino, "netns": node_netns or ""}
    (agent_dir / RECORD).write_text(json.dumps(entry) + "\n")


def here(agent_dir: Path) -> bool:
    """Whether this process may remove the node's network state: True in the recorded namespace (or with
    no record: the node never ran); False when the recorded named namespace is gone (its state went with
    it). Raises ElsewhereError when the node's namespace exists and is not this one."""
    try:
        entry = json.loads((agent_dir / RECORD).read_text())
    except FileNotFoundError:
        return True
    if os.stat(OWN).st_ino == entry["inode"]:
        return True
    name = entry.get("netns") or ""
    if name and not os.path.exists(_path(name)):
        return False
    hint = (
        f"`ip netns exec {os.path.basename(name)} kubelite uninstall ...`"
        if name
        else "inside the network namespace the node ran in (nsenter --net=...)"
    )
    raise ElsewhereError(f"this node's network lives in another network namespace: run {hint}")
