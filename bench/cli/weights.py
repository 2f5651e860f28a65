"""`bench weights ...`: pretrained weights fetched once, moved as one archive, found offline."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bench.cli.output import WholeHelpGroup, console, emit_table

FOLDER = click.Path(file_okay=False, path_type=Path)
ARCHIVE = click.Path(dir_okay=False, path_type=Path)


def _size(count: int) -> str:
    from bench.engine.job_cost import human_bytes

    return human_bytes(count)


@click.group("weights", cls=WholeHelpGroup)
def weights_group() -> None:
    """Pretrained weights for machines without internet: download, pack, unpack, list.

    Runs look in the weights folder first (BENCH_WEIGHTS, else `weights` in the data home's
    settings.toml, else <data home>/weights), then in the Hugging Face cache, then online.
    """


@weights_group.command("download")
@click.argument("models", nargs=-1, required=True)
@click.option("--to", "folder", type=FOLDER,
              help="Weights folder to fill (default: the one runs read, see `bench weights list`).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def download_command(models: tuple[str, ...], folder: Path | None, as_json: bool) -> None:
    """Fetch and verify the pretrained files of MODELS (names or comma lists).

    Each file is checked against the publisher's checksum (a pinned SHA-256, or the hub's own);
    files the folder holds already are verified, not fetched again.
    """
    from bench.weights_pack import download_models

    names = [part.strip() for value in models for part in value.split(",") if part.strip()]
    rows = download_models(names, folder)
    shown = rows if as_json else [{**row, "size": _size(row["size"]),
                                   "sha256": row["sha256"][:12]} for row in rows]
    emit_table(shown, ["model", "file", "status", "size", "sha256"],
               title="Pretrained weights", as_json=as_json, keys=["model"])


@weights_group.command("pack")
@click.argument("archive", type=ARCHIVE)
@click.option("--from", "folder", type=FOLDER,
              help="Weights folder to pack (default: the one runs read).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def pack_command(archive: Path, folder: Path | None, as_json: bool) -> None:
    """Write a weights folder as one tar ARCHIVE, with every file's SHA-256."""
    from bench.weights_pack import pack

    summary = pack(archive, folder)
    _report(summary, as_json, "packed {files} files ({size}) of {folder} into {archive}")


@weights_group.command("unpack")
@click.argument("archive", type=ARCHIVE)
@click.option("--to", "folder", type=FOLDER,
              help="Weights folder to add them to (default: the one runs read).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def unpack_command(archive: Path, folder: Path | None, as_json: bool) -> None:
    """Check every file of a `bench weights pack` ARCHIVE, then add them to the weights folder."""
    from bench.weights_pack import unpack

    summary = unpack(archive, folder)
    _report(summary, as_json, "verified and unpacked {files} files ({size}) of {archive} into "
                              "{folder}")


@weights_group.command("list")
@click.option("--from", "folder", type=FOLDER,
              help="Weights folder to list (default: the one runs read).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(folder: Path | None, as_json: bool) -> None:
    """List the weights folder runs read first, and what chose it."""
    from bench.hub import weights_folder
    from bench.weights_pack import folder_rows

    chosen, why = (folder, "given with --from") if folder else weights_folder()
    rows = folder_rows(chosen)
    if as_json:
        click.echo(json.dumps({"folder": str(chosen), "chosen": why, "files": rows}, indent=2))
        return
    console.print(f"weights folder {chosen} ({why})", highlight=False)
    emit_table([{**row, "size": _size(row["size"])} for row in rows],
               ["file", "revision", "size"], title="Pretrained weights held", keys=["file"])


def _report(summary: dict, as_json: bool, sentence: str) -> None:
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    console.print(sentence.format(size=_size(summary["bytes"]), **summary), highlight=False)


COMMANDS = [weights_group]
