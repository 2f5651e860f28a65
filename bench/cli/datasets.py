"""`bench datasets ...`: the registered data sets and their preparation."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.text import Text

from bench.cli.output import WholeHelpGroup, click_echo, console, emit_line, emit_table
from bench.data.catalogue import SPLIT_NAMES, UNCONFIRMED_LAYOUT, catalogue, count_rows

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def _print_findings(findings: list[dict[str, str]], limit: int = 20) -> None:
    for finding in findings[:limit]:
        style = SEVERITY_STYLE[finding["severity"]]
        console.print(f"[{style}]{finding['severity']}:[/] {finding['message']}", highlight=False)
    if len(findings) > limit:
        console.print(f"... and {len(findings) - limit} more (see audit.json)")


def _print_count_warning(info: dict) -> None:
    if info.get("count_warning"):
        console.print(f"[yellow]warning:[/] {info['count_warning']}", highlight=False)


def _print_counts(title: str, counts: dict, paper: dict | None) -> None:
    columns = ["label", "class", *SPLIT_NAMES, "total"] + (["paper", "difference"] if paper else [])
    emit_table(count_rows(counts, paper), columns, title=title)


@click.group("datasets", cls=WholeHelpGroup)
def datasets_group() -> None:
    """Work with data sets: list, download, prepare, show, verify, remove."""


@datasets_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_datasets(as_json: bool) -> None:
    """List every data set: counts per class and split, image size, download and licence."""
    rows = catalogue()
    emit_table(rows, ["name", "prepared", "per_class", "per_split", "image_size", "layout",
                      "download", "licence"], title="Data sets", as_json=as_json)
    unconfirmed = [row["name"] for row in rows if row["layout"] == "unconfirmed"]
    if unconfirmed and not as_json:
        emit_line(Text(f"{', '.join(unconfirmed)}: {UNCONFIRMED_LAYOUT}."))


@datasets_group.command("prepare")
@click.argument("name")
@click.option("--from", "sources", type=click.Path(path_type=Path), multiple=True,
              help="The official download: its folder, .zip, .rar or .tar[.gz] (as the publisher "
                   "ships it; archives inside are unpacked too). Give it once per file of a data "
                   "set published in several (--from Train.rar --from TestA.rar). Not needed for "
                   "generated and folder: data sets, or to re-prepare.")
@click.option("--cache-size", type=click.IntRange(8, 2048), default=None,
              help="Side in pixels of the decoded cache built now (default: the protocol's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def prepare_command(name: str, sources: tuple[Path, ...], cache_size: int | None,
                    as_json: bool) -> None:
    """Find, map, audit and split a data set, and build its decoded cache.

    NAME is a data set name or alias, a group of data sets published in one download
    (`wbc-usid`: both levels), or folder:PATH for your own images (a folder of class folders,
    train/ and test/ folders, a path,label CSV, or a mapping .toml; see `bench datasets
    list`). Running it again on an unchanged download does nothing new.
    """
    from bench.data import prepare_dataset
    from bench.data.catalogue import datasets_in_group

    names = [spec.name for spec in datasets_in_group(name)] or [name]
    prepared = [prepare_dataset(each, list(sources) or None, progress=True, cache_size=cache_size)
                for each in names]
    if as_json and len(prepared) > 1:
        click_echo(json.dumps([_summary(dataset) for dataset in prepared], indent=2))
        return
    for dataset in prepared:
        _print_prepared(dataset, as_json)


def _summary(dataset) -> dict:
    info, audit = dataset.info, dataset.audit
    return {
        "name": dataset.name,
        "reused": dataset.reused,
        "repaired": dataset.repaired,
        "fingerprint": dataset.fingerprint,
        "folder": str(dataset.folder.root),
        "source": info["source"],
        "counts": info["counts"],
        "image_size": info["image_size"],
        "dropped": info["dropped"],
        "paper_differences": info["paper_differences"],
        "count_warning": info.get("count_warning"),
        "findings": audit.get("findings", []),
    }


def _print_prepared(dataset, as_json: bool) -> None:
    info, audit = dataset.info, dataset.audit
    if as_json:
        click_echo(json.dumps(_summary(dataset), indent=2))
        return
    state = "already prepared, nothing new to do" if dataset.reused else "prepared"
    console.print(f"[bold]{dataset.spec.label}[/] {state}: {dataset.folder.root}")
    for line in dataset.repaired:
        console.print(f"rebuilt a damaged cache: {line}", highlight=False, soft_wrap=True)
    _print_counts(f"{dataset.spec.label}: images per class and split", info["counts"],
                  info["paper_counts"] or None)
    console.print(f"fingerprint {dataset.fingerprint}", highlight=False)
    _print_count_warning(info)
    dropped = info["dropped"]
    if dropped["classes"]:
        console.print("dropped classes: " + ", ".join(
            f"{name} ({count})" for name, count in dropped["classes"].items()))
    if dropped["corrupt"] or dropped["not_image"] or dropped.get("too_large"):
        console.print(f"excluded: {dropped['corrupt']} corrupt, {dropped['not_image']} non-image, "
                      f"{dropped.get('too_large', 0)} too large to decode (listed below)")
    _print_findings(audit.get("findings", []))


@datasets_group.command("show")
@click.argument("name")
@click.option("--grid", "grid_path", type=click.Path(path_type=Path), default=None,
              help="Where to write the sample-grid PNG (default: in the data set's folder).")
@click.option("--per-class", type=click.IntRange(1, 32), default=6, help="Images per class.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def show_command(name: str, grid_path: Path | None, per_class: int, as_json: bool) -> None:
    """Show counts per class and split, the split fingerprint, a sample grid and the audit."""
    from bench.data import load_prepared, write_sample_grid
    from bench.data.catalogue import current_audit

    dataset = load_prepared(name)
    audit = current_audit(dataset)
    grid = write_sample_grid(dataset, grid_path, per_class=per_class)
    paper = dataset.info.get("paper_counts") or None
    if as_json:
        click_echo(json.dumps({
            "name": dataset.name,
            "display_name": dataset.spec.label,
            "fingerprint": dataset.fingerprint,
            "split_rule": dataset.info["split_rule"],
            "counts": dataset.counts(),
            "count_rows": count_rows(dataset.counts(), paper),
            "image_size": dataset.info["image_size"],
            "dropped": dataset.info["dropped"],
            "count_warning": dataset.info.get("count_warning"),
            "grid": str(grid),
            "audit": audit,
        }, indent=2))
        return
    _print_counts(f"{dataset.spec.label}: images per class and split", dataset.counts(), paper)
    console.print(f"fingerprint {dataset.fingerprint}", highlight=False)
    console.print(f"split rule {dataset.info['split_rule']}", highlight=False)
    _print_count_warning(dataset.info)
    console.print(f"sample grid written to {grid}", highlight=False)
    findings = audit.get("findings", [])
    if findings:
        _print_findings(findings)
    else:
        console.print("audit: no findings")


@datasets_group.command("verify")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def verify_command(ctx: click.Context, name: str, as_json: bool) -> None:
    """Recompute fingerprints and file hashes; exit 1 when anything drifted."""
    from bench.data import verify_dataset

    report = verify_dataset(name, progress=not as_json)
    rows = [{"check": c.check, "status": c.status, "detail": c.detail} for c in report.checks]
    if as_json:
        click_echo(json.dumps({"name": report.name, "ok": report.ok, "checks": rows}, indent=2))
    else:
        emit_table(rows, ["check", "status", "detail"], title=f"{report.name}: verification")
        console.print("[green]no drift[/]" if report.ok else "[bold red]drift found[/]")
    if not report.ok:
        ctx.exit(1)


@datasets_group.command("download")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def download_command(name: str, as_json: bool) -> None:
    """Fetch an open data set from its publisher, verify it, resume if broken, prepare it.

    NAME may name a group: `wbc-usid` downloads the release once and prepares both levels.
    Data sets that need a registration print where to get them and the prepare command.
    """
    from bench.download import download_datasets

    prepared = download_datasets(name, progress=not as_json)
    emit_table(
        [{"name": ds.name, "fingerprint": ds.fingerprint[:16],
          "images": sum(sum(split.values()) for split in ds.counts().values())}
         for ds in prepared],
        ["name", "images", "fingerprint"], title="Downloaded and prepared", as_json=as_json,
    )


COMMANDS = [datasets_group]
