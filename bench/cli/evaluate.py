"""`bench evaluate`: test trained models on more data sets, from their best checkpoints."""

from __future__ import annotations

import click

from bench.cli.output import console, emit_table
from bench.errors import BenchError


@click.command("evaluate")
@click.option("--model", "models", multiple=True, required=True,
              help="Trained model name, comma list, or `all`.")
@click.option("--source", "sources", multiple=True, required=True,
              help="Data set(s) it was trained on, comma list, or `all`.")
@click.option("--target", "targets", multiple=True, default=["all"], show_default=True,
              help="Data set(s) to test on, comma list, `all` (prepared benchmark sets) or "
                   "`all+generated` (and the generated ones).")
@click.option("--seeds", "seed_count", metavar="N",
              help="Seeds 0 .. N-1 (default: every seed trained).")
@click.option("--seed", "seed_list", metavar="S[,S...]", help="Exactly these seeds.")
@click.option("--protocol",
              help="Only runs under this protocol: name, hash prefix or TOML file "
                   "(default: any).")
@click.option("--force", is_flag=True, help="Test again on targets that have scores already.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto",
              show_default=True, help="Where to run the test.")
@click.option("--workers", type=int, default=0, show_default=True,
              help="Data loader worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def evaluate_command(models, sources, targets, seed_count, seed_list, protocol, force, device,
                     workers, as_json) -> None:
    """Test the best checkpoints of finished runs on targets, without training.

    The scores are recorded as a run's are, so boards show them; targets a run was tested on
    already are skipped unless --force.
    """
    from bench.engine.evaluate import EvaluateRequest, evaluate_cells, result_rows
    from bench.engine.options import seeds_from
    from bench.engine.progress import QuietListener, display_for

    seeds = None if seed_count is None and seed_list is None else seeds_from(seed_count,
                                                                             seed_list)
    request = EvaluateRequest(models=models, sources=sources, targets=targets, seeds=seeds,
                              protocol=protocol, force=force, device=device, workers=workers)
    listener = QuietListener() if as_json else display_for(console)
    results = evaluate_cells(request, listener)
    rows = result_rows(results)
    for row in rows:  # one compact column per target: its F1 in percent (JSON: every metric)
        for target, metrics in (row["scores"] if as_json else row.pop("scores")).items():
            row[f"f1 {target}"] = round(100 * metrics["f1"], 1)
    columns = ["model", "source", "seed", "status", "detail"]
    columns += sorted({key for row in rows for key in row if key.startswith("f1 ")})
    emit_table(rows, columns, title="bench evaluate", as_json=as_json, keys=["model", "source"])
    failed = [result for result in results if result.status == "failed"]
    if failed:
        lines = [f"{len(failed)} of {len(results)} runs could not be tested:"]
        lines += [f"  {result.label}: {result.detail}" for result in failed]
        raise BenchError("\n".join(lines))


COMMANDS = [evaluate_command]
