"""Pod sandboxes: a network namespace per pod, wired by the real CNI plugins.

Per pod: `ip netns add kl-<uid>`, then loopback (its own network, run alongside) and the chain
bridge → portmap (portmap only when the pod has hostPorts; it is a no-op otherwise and its DEL costs
~100 ms). With node_netns every plugin runs inside that namespace, so the bridge, its iptables rules and
the host ends of the veths live there.

A JSON record per sandbox under <cni>/sandboxes/ is written before anything is made and completed with
the ADD result afterwards: after an agent restart setup() finds ready sandboxes, and teardown() knows
what a crash mid-setup may have left (CNI DEL tolerates the parts that never happened; where a plugin's
DEL trips over its own half-made ADD, deleting the netns and a DEL without it finish the job).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import weakref
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import orjson

from kubelite.agent.network import plugins
from kubelite.agent.network.nsconnect import run_in_netns
from kubelite.agent.network.types import NetworkError, PortMapping, Sandbox
from kubelite.agent.paths import NodePaths

log = logging.getLogger(__name__)
NETNS_DIR = "/run/netns"
BRIDGE = "cni0"
CONFLIST = "10-kubelite.conflist"  # for people, and for uninstall (the pod CIDR its CNI DELs need)
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def netns_name(pod_uid: str) -> str:
    return f"kl-{pod_uid}"


class CniNetwork:
    """The PodNetwork of kubelite.agent.network.types, with the plugins of containernetworking."""

    def __init__(
        self,
        paths: NodePaths,
        *,
        pod_cidr: str,
        node_netns: str | None = None,
        cni_bin_dir: str = "/usr/lib/cni",
        bridge: str = BRIDGE,
        mtu: int | None = None,
    ) -> None:
        self._paths = paths
        self._networks = plugins.networks(
            pod_cidr=pod_cidr, bridge=bridge, ipam_dir=paths.cni / "ipam", mtu=mtu
        )
        self._node_netns = None if node_netns is None else _netns_path(node_netns)
        self._wrap = () if self._node_netns is None else ("nsenter", f"--net={self._node_netns}", "--")
        self._cni_bin_dir = cni_bin_dir
        self._states = paths.cni / "sandboxes"
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._prepare_lock = asyncio.Lock()
        self._prepared = False

    async def setup(self, pod_uid: str, namespace: str, name: str, ports: list[PortMapping]) -> Sandbox:
        async with self._lock(pod_uid):
            state, exists = await asyncio.to_thread(self._lookup, pod_uid)
            netns = _netns_path(netns_name(pod_uid))
            if state is not None and state.get("ip") and exists:
                return Sandbox(pod_uid=pod_uid, netns_path=netns, ip=state["ip"])
            if state is not None or exists:
                await self._teardown(pod_uid, state, exists)  # half-made, or its netns vanished (a reboot)
            await self.prepare()
            state = {"podUID": pod_uid, "namespace": namespace, "name": name, "netns": netns}
            state["portMappings"] = plugins.port_mappings(ports)
            self._save(pod_uid, state)  # not in a thread: a cancel must not separate the record from the work
            try:
                result = await self._add(state)
                state["ip"] = plugins.result_ip(result)
            except BaseException:
                await asyncio.shield(self._teardown_quietly(pod_uid, state))
                raise
            state["result"] = result
            self._save(pod_uid, state)
            return Sandbox(pod_uid=pod_uid, netns_path=netns, ip=state["ip"])

    async def teardown(self, pod_uid: str) -> None:
        async with self._lock(pod_uid):
            await self._teardown(pod_uid, *await asyncio.to_thread(self._lookup, pod_uid))

    async def sandboxes(self) -> list[Sandbox]:
        """Every recorded sandbox; ip is "" for one that is half-made or whose netns is gone."""
        return await asyncio.to_thread(self._scan)

    def _scan(self) -> list[Sandbox]:
        out = []
        for path in sorted(self._states.glob("*.json")) if self._states.is_dir() else []:
            state, exists = self._lookup(path.stem)
            if state is not None:
                ip = state.get("ip", "") if exists else ""
                out.append(Sandbox(pod_uid=path.stem, netns_path=_netns_path(netns_name(path.stem)), ip=ip))
        return out

    async def _add(self, state: dict[str, Any]) -> plugins.JSON:
        await _ip_netns("add", state["netns"])
        inv = self._invocation(state, state["netns"])
        nets = self._networks

        async def chain() -> plugins.JSON:
            result = await plugins.call("ADD", nets.bridge, inv)
            if state["portMappings"]:
                conf = {**nets.portmap, "prevResult": result}
                conf["runtimeConfig"] = {"portMappings": state["portMappings"]}
                result = await plugins.call("ADD", conf, inv)
            return result

        _, result = await _both(plugins.call("ADD", nets.loopback, inv), chain())
        return result

    async def _teardown(self, pod_uid: str, state: dict[str, Any] | None, exists: bool) -> None:
        netns = _netns_path(netns_name(pod_uid))
        if state is None and not exists:
            return
        state = state or {"podUID": pod_uid, "namespace": "", "name": ""}
        nets = self._networks
        prev = {"prevResult": state["result"]} if state.get("result") else {}
        mappings = state.get("portMappings")
        portmap = {**nets.portmap, **prev, "runtimeConfig": {"portMappings": mappings or []}}
        if mappings != []:  # mappings, or not known
            await plugins.call("DEL", portmap, self._invocation(state, netns if exists else ""))
        try:
            await self._del_interfaces(state, prev, netns if exists else "")
        except NetworkError as exc:
            if not exists:
                raise
            # A plugin killed mid-ADD can leave what its own DEL trips over (bridge 1.1: a missing ipMasq
            # chain). Deleting the netns removes the veth pair; a DEL without netns still frees the address.
            log.warning("pod %s: %s; deleting its netns and retrying", pod_uid, exc)
            await _ip_netns("delete", netns)
            exists = False
            await self._del_interfaces(state, prev, "")
        if exists:
            await _ip_netns("delete", netns)
        await asyncio.to_thread(self._state_path(pod_uid).unlink, missing_ok=True)

    async def _del_interfaces(self, state: dict[str, Any], prev: plugins.JSON, netns: str) -> None:
        inv = self._invocation(state, netns)
        nets = self._networks
        await _both(
            plugins.call("DEL", {**nets.bridge, **prev}, inv), plugins.call("DEL", nets.loopback, inv)
        )

    async def _teardown_quietly(self, pod_uid: str, state: dict[str, Any]) -> None:
        # After a failed ADD: the ADD's error is the one worth reporting; the record stays if this fails.
        try:
            await self._teardown(pod_uid, state, await asyncio.to_thread(os.path.exists, state["netns"]))
        except NetworkError as exc:
            log.warning("cleaning up after a failed setup of pod %s: %s", pod_uid, exc)

    def _invocation(self, state: dict[str, Any], netns: str) -> plugins.Invocation:
        uid = state["podUID"]
        args = [("IgnoreUnknown", "1"), ("K8S_POD_NAMESPACE", state["namespace"])]
        args += [("K8S_POD_NAME", state["name"]), ("K8S_POD_INFRA_CONTAINER_ID", uid), ("K8S_POD_UID", uid)]
        return plugins.Invocation(
            container_id=state["podUID"],
            netns=netns,
            cni_args=";".join(f"{k}={v}" for k, v in args),
            cni_path=self._cni_bin_dir,
            wrap=self._wrap,
        )

    async def prepare(self) -> None:
        """Once per instance (the agent calls it at start; setup() makes sure): directories, the config for
        people to read, and ip_forward in the node's netns: a node with no pods still forwards Services."""
        async with self._prepare_lock:
            if not self._prepared:
                try:
                    await asyncio.to_thread(self._prepare_blocking)
                except OSError as exc:
                    raise NetworkError(f"preparing pod networking: {exc}") from exc
                self._prepared = True

    def _prepare_blocking(self) -> None:
        self._states.mkdir(parents=True, exist_ok=True)
        _write_atomic(self._paths.cni / CONFLIST, orjson.dumps(self._networks.conflist()))
        _write_atomic(self._paths.cni / "99-loopback.conf", orjson.dumps(self._networks.loopback))
        if self._node_netns is None:
            _enable_forwarding()
        else:
            run_in_netns(self._node_netns, _enable_forwarding)

    def _lock(self, pod_uid: str) -> asyncio.Lock:
        if not _UID.match(pod_uid):
            raise NetworkError(f"invalid pod UID {pod_uid!r}")
        lock = self._locks.get(pod_uid)
        if lock is None:
            lock = self._locks[pod_uid] = asyncio.Lock()
        return lock

    def _state_path(self, pod_uid: str) -> Path:
        return self._states / f"{pod_uid}.json"

    def _lookup(self, pod_uid: str) -> tuple[dict[str, Any] | None, bool]:
        """The sandbox's record (None if there is none) and whether its netns exists."""
        exists = os.path.exists(_netns_path(netns_name(pod_uid)))
        try:
            state = orjson.loads(self._state_path(pod_uid).read_bytes())
        except FileNotFoundError:
            return None, exists
        except orjson.JSONDecodeError:
            state = None
        if not isinstance(state, dict):
            state = {"podUID": pod_uid, "namespace": "", "name": ""}  # unreadable: DEL everything
        return state, exists

    def _save(self, pod_uid: str, state: dict[str, Any]) -> None:
        """A few hundred bytes, written in place (no fsync): quick enough for the event loop."""
        _write_atomic(self._state_path(pod_uid), orjson.dumps(state))


async def remove_pod_networks(paths: NodePaths) -> tuple[int, list[str]]:
    """Uninstall: every recorded sandbox torn down as a deleted pod's is (CNI DEL frees its address and
    removes its veth, masquerade and hostPort rules), with the pod CIDR of the config the agent last wrote.
    Where DEL fails, the netns is deleted anyway. Returns (sandboxes removed, problems)."""
    states = sorted(paths.cni.glob("sandboxes/*.json"))
    if not states:
        return 0, []
    problems = []
    try:
        conflist = orjson.loads((paths.cni / CONFLIST).read_bytes())
        pod_cidr = conflist["plugins"][0]["ipam"]["ranges"][0][0]["subnet"]
        network: CniNetwork | None = CniNetwork(paths, pod_cidr=pod_cidr)
    except (OSError, orjson.JSONDecodeError, LookupError, TypeError, NetworkError) as error:
        problems.append(f"no usable {CONFLIST} ({error}): deleting the pods' netns without CNI DEL")
        network = None
    for state in states:
        uid = state.stem
        if network is not None:
            try:
                await network.teardown(uid)
                continue
            except NetworkError as error:
                problems.append(f"pod {uid}: {error}")
        await _ip_netns("delete", _netns_path(netns_name(uid)))
        state.unlink(missing_ok=True)
    return len(states), problems


def configured_bridge(paths: NodePaths) -> str | None:
    """The bridge named in the config the agent last wrote (None without one: this node made no bridge)."""
    try:
        conflist = orjson.loads((paths.cni / CONFLIST).read_bytes())
        return str(conflist["plugins"][0]["bridge"])
    except (OSError, orjson.JSONDecodeError, LookupError, TypeError):
        return None


async def remove_bridge(bridge: str) -> bool:
    """Uninstall: delete the pods' bridge; False if there was none."""
    code, _, err = await plugins.run(["ip", "link", "delete", bridge, "type", "bridge"])
    if code == 0:
        return True
    if not await asyncio.to_thread(os.path.exists, f"/sys/class/net/{bridge}"):
        return False
    raise NetworkError(f"ip link delete {bridge}: {err.decode(errors='replace').strip()}")


async def _both(
    first: Coroutine[Any, Any, plugins.JSON], second: Coroutine[Any, Any, plugins.JSON]
) -> tuple[plugins.JSON, plugins.JSON]:
    """Both calls to their end, then the first failure: no plugin may still run when cleanup starts."""
    results = await asyncio.gather(first, second, return_exceptions=True)
    done = [r for r in results if not isinstance(r, BaseException)]
    if len(done) < 2:
        raise next(r for r in results if isinstance(r, BaseException))
    return done[0], done[1]


async def _ip_netns(verb: str, path: str) -> None:
    code, _, err = await plugins.run(["ip", "netns", verb, os.path.basename(path)])
    if code != 0 and (verb == "add" or await asyncio.to_thread(os.path.exists, path)):
        raise NetworkError(
            f"ip netns {verb} {os.path.basename(path)}: {err.decode(errors='replace').strip()}"
        )


def _netns_path(name_or_path: str) -> str:
    return name_or_path if "/" in name_or_path else f"{NETNS_DIR}/{name_or_path}"


def _enable_forwarding() -> None:
    # /proc/sys/net is the calling thread's network namespace
    with open("/proc/sys/net/ipv4/ip_forward", "r+") as f:
        if f.read().strip() != "1":
            f.seek(0)
            f.write("1")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
