"""Running CNI plugin binaries ourselves (no libcni): the network configs, one call, its errors."""

from __future__ import annotations

import asyncio
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from kubelite.agent.network.types import NetworkError, PortMapping

JSON = dict[str, Any]
CNI_VERSION = "1.0.0"
NETWORK_NAME = "kubelite"
# Plugins exec iptables and friends; the agent's own PATH may lack /usr/sbin.
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Networks:
    """The configs handed to the plugins: loopback on its own, then the bridge → portmap chain."""

    loopback: JSON
    bridge: JSON
    portmap: JSON

    def conflist(self) -> JSON:
        """The chain as a CNI conflist, written to disk for people (only uninstall reads it back)."""
        chain = (self.bridge, self.portmap)
        plugins = [{k: v for k, v in p.items() if k not in ("cniVersion", "name")} for p in chain]
        return {"cniVersion": CNI_VERSION, "name": NETWORK_NAME, "plugins": plugins}


def networks(*, pod_cidr: str, bridge: str, ipam_dir: Path, mtu: int | None) -> Networks:
    try:
        subnet = ipaddress.ip_network(pod_cidr)
    except ValueError as exc:
        raise NetworkError(f"invalid pod CIDR {pod_cidr!r}: {exc}") from None
    if not 0 < len(bridge) <= 15:
        raise NetworkError(f"invalid bridge name {bridge!r}")
    default = "0.0.0.0/0" if subnet.version == 4 else "::/0"
    ipam = {
        "type": "host-local",
        "ranges": [[{"subnet": str(subnet), "gateway": str(subnet.network_address + 1)}]],
        "routes": [{"dst": default}],
        "dataDir": str(ipam_dir),
    }
    bridge_conf: JSON = {
        "cniVersion": CNI_VERSION,
        "name": NETWORK_NAME,
        "type": "bridge",
        "bridge": bridge,
        "isGateway": True,
        "ipMasq": True,
        "hairpinMode": True,
        "ipam": ipam,
    }
    if mtu is not None:
        bridge_conf["mtu"] = mtu
    return Networks(
        loopback={"cniVersion": CNI_VERSION, "name": "cni-loopback", "type": "loopback"},
        bridge=bridge_conf,
        portmap={
            "cniVersion": CNI_VERSION,
            "name": NETWORK_NAME,
            "type": "portmap",
            "capabilities": {"portMappings": True},
            "snat": True,
        },
    )


def port_mappings(ports: list[PortMapping]) -> list[JSON]:
    """runtimeConfig.portMappings as CNI spells it."""
    out = []
    for p in ports:
        entry: JSON = {"hostPort": p.host_port, "containerPort": p.container_port, "protocol": p.protocol}
        if p.host_ip:
            entry["hostIP"] = p.host_ip
        out.append(entry)
    return out


@dataclass(frozen=True)
class Invocation:
    """What every plugin call of one sandbox shares."""

    container_id: str
    netns: str  # "" when the namespace is gone (DEL then only releases what it can)
    cni_args: str
    cni_path: str
    wrap: tuple[str, ...]  # e.g. ("nsenter", "--net=/run/netns/node", "--") to run in the node's netns
    ifname: str = "eth0"
    timeout: float = 60.0


async def call(command: str, conf: JSON, inv: Invocation) -> JSON:
    """One plugin call; returns its result (an empty dict when it printed none, as DEL does)."""
    kind = conf["type"]
    env = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": inv.container_id,
        "CNI_NETNS": inv.netns,
        "CNI_IFNAME": inv.ifname,
        "CNI_ARGS": inv.cni_args,
        "CNI_PATH": inv.cni_path,
        "PATH": _PATH,
    }
    argv = [*inv.wrap, os.path.join(inv.cni_path, kind)]
    try:
        async with asyncio.timeout(inv.timeout):
            code, out, err = await run(argv, orjson.dumps(conf), env=env)
    except TimeoutError:
        raise NetworkError(_failure(kind, conf, command, f"timed out after {inv.timeout:g}s")) from None
    if code != 0:
        raise NetworkError(_failure(kind, conf, command, _message(out, err, code)))
    if not out.strip():
        return {}
    result = orjson.loads(out)
    if not isinstance(result, dict):
        raise NetworkError(_failure(kind, conf, command, f"unexpected output {out[:200]!r}"))
    return result


async def run(
    argv: list[str], stdin: bytes = b"", *, env: dict[str, str] | None = None
) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr). Cancelled (or timed out), the process is killed and reaped first:
    nothing may still be running behind the cleanup that follows."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        out, err = await proc.communicate(stdin)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await asyncio.shield(proc.wait())
        raise
    return await proc.wait(), out, err


def _failure(kind: str, conf: JSON, command: str, message: str) -> str:
    # containerd's wording, which is what users see in FailedCreatePodSandBox events
    return f'plugin type="{kind}" name="{conf["name"]}" failed ({command.lower()}): {message}'


def _message(out: bytes, err: bytes, code: int | None) -> str:
    try:
        error = orjson.loads(out)
    except orjson.JSONDecodeError:
        error = None
    if isinstance(error, dict) and error.get("msg"):
        details = error.get("details")
        return f"{error['msg']}: {details}" if details else str(error["msg"])
    text = (err or out).decode(errors="replace").strip()
    return text or f"exit status {code}"


def result_ip(result: JSON, ifname: str = "eth0") -> str:
    """The pod's address from a CNI result: the first one on the sandbox interface, IPv4 first."""
    interfaces = result.get("interfaces") or []
    found: list[str] = []
    for entry in result.get("ips") or []:
        index = entry.get("interface")
        if index is not None and 0 <= index < len(interfaces):
            iface = interfaces[index]
            if iface.get("name") != ifname or not iface.get("sandbox"):
                continue
        found.append(str(entry["address"]).split("/")[0])
    if not found:
        raise NetworkError(f"the CNI result has no address for {ifname}: {orjson.dumps(result).decode()}")
    found.sort(key=lambda ip: ipaddress.ip_address(ip).version)
    return found[0]
