"""The `kubelite` command."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from kubelite import __version__
from kubelite.cli.server import ServerConfig, run_server

KUBERNETES_VERSION = "v1.32.4"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """kubelite: a small Kubernetes you can run, read and trust."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname).1s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


@cli.command()
def version() -> None:
    """Print the kubelite version and the Kubernetes version it serves."""
    click.echo(f"kubelite version v{__version__} (Kubernetes {KUBERNETES_VERSION})")


@cli.command()
@click.option("--data-dir", "-d", type=click.Path(path_type=Path), default=Path("/var/lib/kubelite"),
              show_default=True, help="Folder for state: database, certificates, kubeconfig.")
@click.option("--datastore-endpoint", default="", help="sqlite://PATH or etcd://HOST:PORT[,HOST:PORT...] "
              "(default: sqlite in the data dir).")
@click.option("--bind-address", default="127.0.0.1", show_default=True,
              help="Address the API server listens on.")
@click.option("--https-listen-port", "--port", "port", type=int, default=6443, show_default=True,
              help="Port the API server listens on.")
@click.option("--node-ip", default="", help="IP address to advertise for this node.")
@click.option("--service-cidr", default="10.43.0.0/16", show_default=True, help="Service cluster IP range.")
def server(**options: object) -> None:
    """Run the control plane."""
    config = ServerConfig(**options)  # type: ignore[arg-type]
    sys.exit(asyncio.run(run_server(config)))


def main() -> None:
    cli(prog_name="kubelite")
