"""The `kubelite` command."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click

from kubelite import __version__
from kubelite.api.version import KUBERNETES_VERSION
from kubelite.cli.image import image
from kubelite.cli.token import token


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


def node_options(command: Callable[..., None]) -> Callable[..., None]:
    """The flags of a machine that runs pods, shared by `server` (its own node) and `agent`."""
    options = [
        click.option("--kubelet-port", type=int, default=10250, show_default=True,
                     help="The agent's HTTPS port for logs, exec and port-forward (the API server only)."),
        click.option("--cluster-domain", default="cluster.local", show_default=True,
                     help="Pods' DNS domain."),
        click.option("--insecure-registry", "insecure_registries", multiple=True,
                     help="host[:port] of a registry spoken to over plain HTTP (repeatable)."),
        click.option("--resolv-conf", default="/etc/resolv.conf", show_default=True,
                     help="Cluster DNS forwards other names to this file's nameservers (\"\": to none)."),
        click.option("--strict-image-pulls", is_flag=True,
                     help="No fallback to a local image copy when the registry is unreachable "
                     "(upstream's way)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


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
@click.option("--service-node-port-range", default="30000-32767", show_default=True,
              help="Port range reserved for services with NodePort visibility.")
@click.option("--cluster-cidr", default="10.42.0.0/16", show_default=True,
              help="Pod IP range; each node gets a /24 of it.")
@click.option("--lb-pool", default="", help="Addresses for LoadBalancer Services: CIDR or first-last "
              "(default: none; such Services stay Pending, as on a cluster without a load balancer).")
@click.option("--disable-agent", is_flag=True, help="Run only the control plane: no pods on this machine.")
@click.option("--runtime", type=click.Choice(["crun", "runc"]), default="crun", show_default=True,
              help="OCI runtime of the in-process agent.")
@click.option("--node-name", default="", help="This machine's node name (default: the host name).")
@click.option("--node-label", "node_labels", multiple=True, help="key=value label on this node (repeatable).")
@click.option("--node-taint", "node_taints", multiple=True,
              help="key[=value]:Effect taint on this node (repeatable).")
@node_options
def server(**options: object) -> None:
    """Run the control plane."""
    # Each command imports only what it runs: an agent-only node never loads the control plane's code.
    from kubelite.cli.server import ServerConfig, run_server

    config = ServerConfig(**options)  # type: ignore[arg-type]
    sys.exit(asyncio.run(run_server(config)))


@cli.command()
@click.option("--runtime", type=click.Choice(["crun", "runc", "fake"]), default="crun", show_default=True,
              help="OCI runtime for containers; `fake` simulates nodes without running anything.")
@click.option("--server", "-s", default="", help="API server URL (with --token-file).")
@click.option("--token-file", type=click.Path(path_type=Path), default=None, help="File holding the token.")
@click.option("--token", "-t", default="", help="The join token itself (see `kubelite token`).")
@click.option("--certificate-authority", type=click.Path(path_type=Path), default=None,
              help="CA certificate the API server's certificate is checked against (with --server).")
@click.option("--kubeconfig", type=click.Path(path_type=Path), default=None,
              help="Kubeconfig to use instead of --server/--token-file.")
@click.option("--data-dir", "-d", type=click.Path(path_type=Path), default=Path("/var/lib/kubelite"),
              show_default=True, help="Folder for the node's state: images, containers, pod volumes, logs.")
@click.option("--node-name", default="", help="Node name (default: the host name; with --runtime fake, the "
              "prefix of <prefix>-0 .. <prefix>-N-1, default fake-node).")
@click.option("--node-ip", default="", help="Address to advertise (default: the host's primary address; "
              "127.0.0.1 for fake nodes).")
@click.option("--node-label", "node_labels", multiple=True, help="key=value label on each node (repeatable).")
@click.option("--node-taint", "node_taints", multiple=True,
              help="key[=value]:Effect taint on every node (repeatable).")
@click.option("--cluster-cidr", default="10.42.0.0/16", show_default=True,
              help="The cluster's pod range (as given to the server).")
@click.option("--cluster-dns", default="10.43.0.10", show_default=True, help="Nameserver for pods.")
@node_options
@click.option("--fake-nodes", type=int, default=1, show_default=True, help="How many nodes to simulate.")
@click.option("--capacity", multiple=True,
              help="resource=quantity per fake node, e.g. cpu=8 memory=32Gi pods=110 (repeatable).")
@click.option("--fake-job-duration", type=float, default=1.0, show_default=True,
              help="Seconds a Job's pod runs on a fake node before it exits.")
@click.option("--lease-interval", type=float, default=10.0, show_default=True,
              help="Seconds between fake node Lease renewals.")
def agent(**options: object) -> None:
    """Join a cluster as node(s)."""
    from kubelite.cli.agent import AgentOptions, run_agent

    sys.exit(asyncio.run(run_agent(AgentOptions(**options))))  # type: ignore[arg-type]


@cli.command()
@click.option("--data-dir", "-d", type=click.Path(path_type=Path), default=Path("/var/lib/kubelite"),
              show_default=True, help="The data folder of the server or agent to remove.")
@click.option("--keep-data", is_flag=True, help="Keep the data dir (images, database, certificates).")
def uninstall(**options: object) -> None:
    """Remove a stopped node: its containers, mounts, network state, cgroups and data dir."""
    from kubelite.cli.uninstall import UninstallOptions, run_uninstall

    sys.exit(asyncio.run(run_uninstall(UninstallOptions(**options))))  # type: ignore[arg-type]


cli.add_command(image)
cli.add_command(token)


def main() -> None:
    cli(prog_name="kubelite")
