"""Applying a `Ruleset` with one `iptables-restore --noflush` per change, inside the node's netns if given.

`--noflush` leaves everyone else's rules alone; a chain declared in the input (`:KL-X - [0:0]`) is created or
emptied, then refilled. So a sync writes only the chains whose rules changed since the last successful one
(after an endpoint change: the port's SVC chain and the new SEP chains) plus `-X` for chains no longer
wanted — the same minimal update kube-proxy makes. The first sync (and any after a failure) starts from
what iptables-save shows: KL chains left by an earlier run are rewritten or deleted, missing jumps inserted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from kubelite.proxy.rules import CHAIN_PREFIX, JUMPS, Chains, Ruleset

log = logging.getLogger(__name__)

TABLES = ("nat", "filter")


class IptablesError(Exception):
    """An iptables command failed; the message has its stderr."""


def netns_prefix(netns: str | None) -> tuple[str, ...]:
    """Run a command in the network namespace at path `netns` (nsenter keeps the host's /proc and /sys,
    unlike `ip netns exec`; /proc/sys/net follows the entered namespace)."""
    return ("nsenter", f"--net={netns}", "--") if netns else ()


class Iptables:
    """iptables and friends (iptables-save/-restore, sysctl, conntrack), run in the node's netns."""

    def __init__(self, netns: str | None = None) -> None:
        self._prefix = netns_prefix(netns)

    async def run(self, *command: str, stdin: str | None = None, check: bool = True) -> str:
        process = await asyncio.create_subprocess_exec(
            *self._prefix,
            *command,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate(stdin.encode() if stdin is not None else None)
        if check and process.returncode != 0:
            raise IptablesError(f"{' '.join(command)}: exit {process.returncode}: {err.decode().strip()}")
        return out.decode()

    async def save(self, table: str) -> list[str]:
        return (await self.run("iptables-save", "-t", table)).splitlines()

    async def restore(self, text: str) -> None:
        await self.run("iptables-restore", "--noflush", stdin=text)

    async def sysctl(self, name: str, value: str) -> None:
        await self.run("sysctl", "-q", "-w", f"{name}={value}")


def _kl_chains(saved: Sequence[str]) -> set[str]:
    return {line[1:].split()[0] for line in saved if line.startswith(":" + CHAIN_PREFIX)}


def _foreign_jumps(saved: Sequence[str]) -> list[str]:
    """`-A BUILTIN ... -j KL-...` lines: our jumps from chains that are not ours."""
    return [
        line
        for line in saved
        if line.startswith("-A ")
        and not line.split()[1].startswith(CHAIN_PREFIX)
        and f"-j {CHAIN_PREFIX}" in line
    ]


class RuleSyncer:
    """Keeps what was applied last, to write only the difference next time."""

    def __init__(self, iptables: Iptables) -> None:
        self.iptables = iptables
        # chain -> rules as applied, per table; None: unknown (start, or after a failure) — read it back.
        self._applied: dict[str, dict[str, list[str] | None]] | None = None
        self._missing_jumps: dict[str, list[tuple[str, str]]] = {}

    async def _read_back(self) -> dict[str, dict[str, list[str] | None]]:
        applied: dict[str, dict[str, list[str] | None]] = {}
        for table in TABLES:
            saved = await self.iptables.save(table)
            applied[table] = dict.fromkeys(_kl_chains(saved))
            present = set(saved)
            self._missing_jumps[table] = [
                (chain, rule)
                for t, chain, rule in JUMPS
                if t == table and f"-A {chain} {rule}" not in present
            ]
        return applied

    async def sync(self, desired: Ruleset) -> int:
        """Make the KL chains equal `desired`; returns how many chains were written or deleted."""
        applied = self._applied if self._applied is not None else await self._read_back()
        text, changes = [], 0
        for table in TABLES:
            want: Chains = desired.tables[table]
            have = applied.get(table, {})
            changed = [c for c in want if have.get(c) != want[c]]
            stale = [c for c in have if c not in want]
            jumps = self._missing_jumps.get(table, [])
            if not (changed or stale or jumps):
                continue
            changes += len(changed) + len(stale)
            text.append(f"*{table}")
            text.extend(f":{chain} - [0:0]" for chain in (*changed, *stale))
            for chain in changed:
                text.extend(want[chain])
            text.extend(f"-I {chain} 1 {rule}" for chain, rule in jumps)
            text.extend(f"-X {chain}" for chain in stale)
            text.append("COMMIT")
        if text:
            try:
                await self.iptables.restore("\n".join(text) + "\n")
            except IptablesError:
                self._applied = None
                raise
        self._missing_jumps = {}
        self._applied = {t: {c: list(rules) for c, rules in desired.tables[t].items()} for t in TABLES}
        return changes

    def applied_chain(self, table: str, chain: str) -> list[str] | None:
        """The rules of `chain` as last applied (None: not applied, or the state is unknown)."""
        return ((self._applied or {}).get(table) or {}).get(chain)

    async def cleanup(self) -> None:
        """Remove every KL chain and every jump to one (also ones an earlier run left behind)."""
        text = []
        for table in TABLES:
            saved = await self.iptables.save(table)
            chains = sorted(_kl_chains(saved))
            deletes = ["-D " + line[3:] for line in _foreign_jumps(saved)]
            if not (chains or deletes):
                continue
            text += [
                f"*{table}",
                *(f":{c} - [0:0]" for c in chains),
                *deletes,
                *(f"-X {c}" for c in chains),
                "COMMIT",
            ]
        if text:
            await self.iptables.restore("\n".join(text) + "\n")
        self._applied = None
