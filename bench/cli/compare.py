"""`bench compare`: two models, or one model from two sources, paired on the same test images."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bench.cli.leaderboard import MetricOption
from bench.cli.output import console
from bench.errors import OptionError


@click.command("compare")
@click.option("--models", metavar="A,B", help="Two models trained on --source.")
@click.option("--sources", metavar="A,B",
              help="Two training data sets of one --model (a source comparison).")
@click.option("--model", metavar="M", help="The model of a source comparison.")
@click.option("--source", help="Training data set of both models (with --models).")
@click.option("--target", "targets", multiple=True, metavar="T[,T]",
              help="Test data set; with --sources also several, `all` (every target both "
                   "were tested on) or `other` (each source's model on the other source's "
                   "test split, paired by image key).")
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
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON instead of tables (--sources: a list, one per target).")
def compare_command(models: str | None, sources: str | None, model: str | None,
                    source: str | None, targets: tuple[str, ...], metrics: tuple[str, ...],
                    protocol: str | None, resamples: int, level: float,
                    store_path: Path | None, as_json: bool) -> None:
    """Is A really better than B? Paired on the same test images.

    `--models A,B --source S --target T`: two models trained on S. `--sources A,B --model M
    --target T`: M trained on A against M trained on B (does training on A generalise
    better?). Per metric: A, B, the difference A - B with its interval and p-value, over the
    recipes when both cells have 2 or more seeds (Welch's t), else over these trained models
    (paired bootstrap); McNemar's exact test on right/wrong per image, per pair of seeds.
    """
    import bench.leaderboard as lb
    from bench.cli.leaderboard import _names_list
    from bench.metrics import resolve_metrics
    from bench.store import open_store

    if bool(models) == bool(sources):
        raise OptionError("give either --models A,B (with --source) or --sources A,B (with "
                          "--model), not both or neither.")
    pair = _names_list([models or sources or ""])
    if len(pair) != 2:
        option = "--models" if models else "--sources"
        raise OptionError(f"{option} takes exactly two names, A,B (got {models or sources!r}).")
    wanted = _names_list(targets)
    if models and (source is None or len(wanted) != 1 or model is not None):
        raise OptionError("--models A,B needs --source S and one --target T (and no --model).")
    if sources and (model is None or not wanted or source is not None):
        raise OptionError("--sources A,B needs --model M and --target (a data set, several, "
                          "`all` or `other`), and no --source.")
    if store_path is not None and not store_path.is_file():
        raise OptionError(f"no results store at {store_path}; give the path of a "
                          "results.sqlite.")
    chosen = [m if ":" in m else resolve_metrics([m])[0] for m in _names_list(metrics)]
    settings = lb.IntervalSettings(resamples=resamples, level=level)
    store, names = open_store(store_path), lb.Names.from_registries()
    if models:
        results = [lb.compare_models(store, names, pair[0], pair[1], source or "", wanted[0],
                                     protocol=protocol, metrics=chosen, settings=settings)]
    else:
        results = lb.compare_sources(store, names, model or "", pair[0], pair[1], wanted,
                                     protocol=protocol, metrics=chosen, settings=settings)
    if as_json:
        data = [result.to_dict() for result in results]
        click.echo(json.dumps(data[0] if models else data, indent=2))
        return
    from bench.leaderboard.render.paired_terminal import print_comparison

    for result in results:
        print_comparison(result, console)


COMMANDS = [compare_command]
