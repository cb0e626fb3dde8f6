"""The `kubelite` command."""

from __future__ import annotations

import logging

import click

from kubelite import __version__

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


def main() -> None:
    cli(prog_name="kubelite")
