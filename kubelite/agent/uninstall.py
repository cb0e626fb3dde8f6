"""Removing a stopped node from its machine (`kubelite uninstall`; k3s-killall.sh + k3s-uninstall.sh).

A stopped agent leaves its containers running on purpose (they outlive it, as with k3s), and with them their
mounts, netns and cgroups, plus the node's network state. Uninstall removes all of it in k3s-killall's
order — processes first (nothing may hold what follows), then mounts, the pods' networks, the node's
network (callers add their own steps here: the service proxy's chains), cgroups, and last the data dir.
Each step is idempotent, so an interrupted uninstall is simply run again. Everything is found through the
data dir (containers' pid files, sandbox records, the cgroups named after it, the bridge its CNI config
names) or by kubelite's own marks (route protocol, chain names, address labels), never by guessing; and the
node's network state only in the network namespace the node recorded (nsrecord), so other nodes sharing the
machine are left alone.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kubelite.agent.network import cni, nsrecord, routes
from kubelite.agent.network.dnsaddress import release_cluster_dns
from kubelite.agent.paths import CGROUP_PARENT, NodePaths
from kubelite.agent.runtime import cgroups, oci
from kubelite.agent.volumes import sysmount

log = logging.getLogger(__name__)

KILL_WAIT = 10.0
MARKERS = ("kubelite.lock",)  # every data dir of a server or agent holds it; a stray folder does not


class NotADataDir(Exception):
    """Refusing to delete a folder that kubelite did not make."""


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[], Awaitable[str]]  # does it; returns what it did, in a few words


def check_data_dir(data_dir: Path) -> None:
    """A data dir that exists must look like kubelite's: uninstall deletes it."""
    if data_dir.exists() and not any((data_dir / name).exists() for name in MARKERS):
        raise NotADataDir(f"{data_dir} holds no {', '.join(MARKERS)}: not a kubelite data dir, left alone")


def node_steps(
    data_dir: Path, *, node_network: Sequence[Step] = (), keep_data: bool = False
) -> list[Step]:
    """The steps for the node kept in `data_dir`; `node_network`: the callers' own (the proxy's rules).
    Raises nsrecord.ElsewhereError when the node's network lives in another namespace than ours."""
    paths = NodePaths(data_dir / "agent", "")
    network_here = nsrecord.here(paths.root)

    async def kill() -> str:
        killed = await asyncio.to_thread(oci.kill_all, paths)
        alive = await asyncio.to_thread(oci.wait_gone, killed, KILL_WAIT)
        if alive:
            raise OSError(f"processes {alive} survived SIGKILL")
        return f"{len(killed)} processes killed"

    async def unmount() -> str:
        points = sysmount.mount_points_under(data_dir)
        for point in reversed(points):
            sysmount.unmount(point)
        return f"{len(points)} unmounted"

    async def pod_networks() -> str:
        count, problems = await cni.remove_pod_networks(paths)
        for problem in problems:
            log.warning("%s", problem)
        return f"{count} removed" + (f" ({len(problems)} without CNI DEL)" if problems else "")

    async def dns_address() -> str:
        removed = release_cluster_dns()
        return f"{', '.join(removed)} removed from lo" if removed else "none"

    async def node_routes() -> str:
        return f"{await routes.remove_node_routes()} removed"

    async def bridge() -> str:
        name = cni.configured_bridge(paths)  # by the node's own config: never another network's bridge
        return f"{name} deleted" if name and await cni.remove_bridge(name) else "none"

    async def gone() -> str:
        return "none: the node's network namespace is gone, and its network state with it"

    network = [
        *node_network,
        Step("cluster DNS address", dns_address),
        Step("routes to other nodes' pods", node_routes),
        Step("pod bridge", bridge),
    ]
    if not network_here:
        network = [Step(step.title, gone) for step in network]

    async def cgroups_of_node() -> str:
        found = await asyncio.to_thread(node_cgroups, data_dir)
        for cgroup in found:
            await asyncio.to_thread(cgroups.remove, cgroup)
        await asyncio.to_thread(cgroups.remove_if_empty, CGROUP_PARENT)  # other nodes may still use it
        return f"{len(found)} removed"

    async def data() -> str:
        return "kept (--keep-data)" if keep_data else await asyncio.to_thread(_remove_data, data_dir)

    return [
        Step("containers and their monitors", kill),
        Step(f"mounts under {data_dir}", unmount),
        Step("pod networks (CNI DEL, netns)", pod_networks),
        *network,
        Step("cgroups", cgroups_of_node),
        Step("data dir", data),
    ]


def _remove_data(data_dir: Path) -> str:
    if not data_dir.exists():
        return "none"
    still = sysmount.mount_points_under(data_dir)
    if still:  # rmtree would delete what is mounted there
        raise OSError(f"still mounted under it: {', '.join(still)}")
    shutil.rmtree(data_dir)
    return f"{data_dir} deleted"


def node_cgroups(data_dir: Path) -> list[str]:
    """The node cgroups of this data dir, named `<node>-<tag of the dir>`."""
    tag = NodePaths(data_dir / "agent", "").cgroup_tag
    return sorted(cgroups.matching(f"{CGROUP_PARENT}/*-{tag}"))


async def run_steps(steps: Sequence[Step], echo: Callable[[str], None]) -> bool:
    """Every step in turn, one line each; a failed one is reported and the rest still run (each is safe on
    its own: the data dir is not deleted while anything is mounted under it). True if all succeeded."""
    ok = True
    for number, step in enumerate(steps, 1):
        try:
            done = await step.run()
        except Exception as error:  # any failure is reported for its step, then the others run
            log.debug("step %r failed", step.title, exc_info=True)
            echo(f"[{number}/{len(steps)}] {step.title}: FAILED: {error}")
            ok = False
        else:
            echo(f"[{number}/{len(steps)}] {step.title}: {done}")
    return ok
