"""`bench rescore`: recompute every stored metric from the stored test predictions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bench.cli.output import console
from bench.errors import DataError


@click.command("rescore")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Results store to rewrite (default: the data home's results.sqlite).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def rescore_command(store_path: Path | None, as_json: bool) -> None:
    """Give old results the metrics of this bench version, without retraining.

    Every finished run's scores are recomputed from its stored predictions; targets without
    stored predictions keep their scores.
    """
    from dataclasses import asdict

    from bench.engine.rescore import rescore_store
    from bench.store import open_store

    if store_path is not None and not store_path.is_file():
        raise DataError(f"no results store at {store_path}; give the path of a results.sqlite.")
    report = rescore_store(open_store(store_path))
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2))
        return
    console.print(f"rescored {report.targets} targets of {report.runs} runs "
                  f"({', '.join(report.metrics) or 'no metrics'})", highlight=False)
    if report.without_predictions:
        console.print(f"{len(report.without_predictions)} targets have no stored predictions "
                      "and keep their scores", highlight=False)


COMMANDS = [rescore_command]
