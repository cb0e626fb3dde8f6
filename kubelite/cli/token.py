"""`kubelite token`: print the token agents join with.

It is the server's admin token (kept in <data-dir>/server/token), so it is as secret as the admin
kubeconfig. Agents use it as `kubelite agent --server https://<server>:6443 --token-file <file>
--certificate-authority <data-dir>/server/tls/ca.crt`.
"""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_DATA_DIR = Path("/var/lib/kubelite")


def token_path(data_dir: Path) -> Path:
    return data_dir / "server" / "token"


def read_token(data_dir: Path) -> str:
    """The token, or a ClickException saying what to do when there is none."""
    path = token_path(data_dir)
    try:
        token = path.read_text().strip()
    except OSError as error:
        raise click.ClickException(
            f"cannot read {path}: {error.strerror}; has `kubelite server --data-dir {data_dir}` run here?"
        ) from error
    if not token:
        raise click.ClickException(f"{path} is empty; start `kubelite server --data-dir {data_dir}` once")
    return token


@click.command()
@click.option("--data-dir", "-d", type=click.Path(path_type=Path), default=DEFAULT_DATA_DIR,
              show_default=True, help="The server's data folder.")
def token(data_dir: Path) -> None:
    """Print the token agents join the cluster with (use it with `kubelite agent --token-file`)."""
    click.echo(read_token(data_dir))
