"""`kubelite uninstall`: remove a stopped node's containers, mounts, network state, cgroups and data.

The agent's steps (kubelite.agent.uninstall) with the service proxy's rules and announced load-balancer
addresses among them: composed here, since the agent does not know the proxy. Refused while a kubelite
process holds the data dir's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from kubelite.agent import uninstall
from kubelite.agent.network import nsrecord
from kubelite.proxy import announce
from kubelite.proxy import run as proxy
from kubelite.util.datadirlock import DataDirInUse, hold


@dataclass(frozen=True)
class UninstallOptions:
    data_dir: Path
    keep_data: bool


async def proxy_rules() -> str:
    await proxy.cleanup()
    return "KL chains and jumps removed"


async def lb_addresses() -> str:
    removed = await announce.release()
    return f"{', '.join(removed)} removed" if removed else "none"


async def run_uninstall(options: UninstallOptions) -> int:
    """0 when everything is gone; 1 if a step failed (run it again after fixing what it says); 2 refused."""
    try:
        uninstall.check_data_dir(options.data_dir)
        with hold(options.data_dir):
            steps = uninstall.node_steps(
                options.data_dir,
                node_network=[
                    uninstall.Step("service proxy rules", proxy_rules),
                    uninstall.Step("announced load-balancer addresses", lb_addresses),
                ],
                keep_data=options.keep_data,
            )
            ok = await uninstall.run_steps(steps, click.echo)
    except (DataDirInUse, uninstall.NotADataDir, nsrecord.ElsewhereError) as error:
        click.echo(f"kubelite uninstall: refused: {error}", err=True)
        return 2
    if not ok:
        click.echo("kubelite uninstall: some steps failed (see above); run it again once fixed", err=True)
        return 1
    return 0
