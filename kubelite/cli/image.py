"""`kubelite image`: import, list and remove the images in a node's store, in crictl's style."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from kubelite.agent.images.archive import ArchiveError, import_archive
from kubelite.agent.images.reference import InvalidImageName, parse_reference
from kubelite.agent.images.registry import RegistryError
from kubelite.agent.images.store import ImageNotKnown, ImageRecord, ImageStore

DEFAULT_DATA_DIR = Path("/var/lib/kubelite")
_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB")


def image_store(data_dir: Path) -> ImageStore:
    """The store the node agent uses under the server's/agent's data dir."""
    return ImageStore(data_dir / "agent" / "images")


def human_size(size: int) -> str:
    """Decimal units with four significant digits, as crictl and docker print sizes."""
    value, unit = float(size), 0
    while value >= 1000 and unit < len(_SIZE_UNITS) - 1:
        value, unit = value / 1000, unit + 1
    return f"{value:.4g}{_SIZE_UNITS[unit]}"


def _row(record: ImageRecord) -> tuple[str, str, str, str]:
    ref = parse_reference(record.reference)
    return ref.name, ref.tag or "<none>", record.image_id.partition(":")[2][:13], human_size(record.size)


def format_table(records: list[ImageRecord]) -> str:
    rows = [("IMAGE", "TAG", "IMAGE ID", "SIZE"), *(_row(record) for record in records)]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    # The last column is not padded, so lines carry no trailing spaces.
    return "\n".join("   ".join([*(row[column].ljust(widths[column]) for column in range(3)), row[3]])
                     for row in rows)


data_dir_option = click.option(
    "--data-dir", "-d", type=click.Path(path_type=Path), default=DEFAULT_DATA_DIR, show_default=True,
    help="The node's data folder; images live in <data-dir>/agent/images.")


@click.group()
def image() -> None:
    """Manage the images on this node."""


@image.command("import")
@data_dir_option
@click.option("--base-name", default=None, help="Repository for OCI archives that name images only by tag.")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(data_dir: Path, base_name: str | None, archive: Path) -> None:
    """Import a docker-save or OCI archive (tar)."""
    try:
        records = asyncio.run(import_archive(image_store(data_dir), archive, base_name=base_name))
    except (ArchiveError, InvalidImageName, RegistryError) as error:
        raise click.ClickException(str(error)) from error
    for record in records:
        click.echo(f"Imported {record.reference} ({record.manifest_digest})")


@image.command("ls")
@data_dir_option
def list_command(data_dir: Path) -> None:
    """List images: IMAGE TAG IMAGE ID SIZE."""
    click.echo(format_table(image_store(data_dir).list()))


@image.command("rm")
@data_dir_option
@click.argument("references", nargs=-1, required=True)
def remove_command(data_dir: Path, references: tuple[str, ...]) -> None:
    """Remove images by reference and free the space nothing else uses."""
    store = image_store(data_dir)
    failed = False
    for reference in references:
        try:
            asyncio.run(store.remove(reference))
        except (ImageNotKnown, InvalidImageName) as error:
            click.echo(f"Error: {error.args[0]}", err=True)
            failed = True
            continue
        click.echo(f"Deleted: {parse_reference(reference)}")
    store.garbage_collect()
    if failed:
        raise SystemExit(1)
