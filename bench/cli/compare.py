"""`bench compare`: two models on the same test images, paired bootstrap and McNemar."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bench.cli.leaderboard import MetricOption
from bench.cli.output import console
from bench.errors import DataError


@click.command("compare")
@click.option("--models", required=True, metavar="A,B", help="The two models to compare.")
@click.option("--source", required=True, help="Training data set of both.")
@click.option("--target", required=True, help="Test data set of both.")
@click.option("--metric", "metrics", multiple=True, metavar="NAME[,NAME]", cls=MetricOption,
              help="Metrics to compare ({metrics}; default: every stored one); per class: "
                   "recall:B.")
@click.option("--protocol", metavar="NAME|HASH|FILE", help="Only results under this protocol.")
@click.option("--resamples", type=int, default=1000, show_default=True,
              help="Bootstrap resamples.")
@click.option("--level", type=float, default=0.95, show_default=True,
              help="Confidence level of the difference's interval.")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Results store to read (default: the data home's results.sqlite).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def compare_command(models: str, source: str, target: str, metrics: tuple[str, ...],
                    protocol: str | None, resamples: int, level: float,
                    store_path: Path | None, as_json: bool) -> None:
    """Is A really better than B? Paired on the same test images of TARGET.

    Per metric: A, B, the difference A - B with its paired bootstrap interval and p-value;
    McNemar's exact test on right/wrong per image, for each pair of seeds.
    """
    import bench.leaderboard as lb
    from bench.cli.leaderboard import _names_list
    from bench.metrics import resolve_metrics
    from bench.store import open_store

    pair = _names_list([models])
    if len(pair) != 2:
        raise DataError(f"--models takes exactly two models, A,B (got {models!r}).")
    if store_path is not None and not store_path.is_file():
        raise DataError(f"no results store at {store_path}; give the path of a results.sqlite.")
    chosen = [m if ":" in m else resolve_metrics([m])[0] for m in _names_list(metrics)]
    result = lb.compare_models(
        open_store(store_path), lb.Names.from_registries(), pair[0], pair[1], source, target,
        protocol=protocol, metrics=chosen,
        settings=lb.IntervalSettings(resamples=resamples, level=level),
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    from bench.leaderboard.render_compare import print_comparison

    print_comparison(result, console)


COMMANDS = [compare_command]
