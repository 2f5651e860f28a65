"""`bench evaluate`: test trained models on more data sets, from their best checkpoints."""

from __future__ import annotations

from pathlib import Path

import click

from bench.cli.output import console, emit_table
from bench.errors import BenchError, OptionError


@click.command("evaluate")
@click.option("--model", "models", multiple=True, required=True,
              help="Trained model name, comma list, or `all`.")
@click.option("--source", "sources", multiple=True,
              help="Data set(s) it was trained on, comma list, or `all` (required unless "
                   "--weights).")
@click.option("--target", "targets", multiple=True, default=["all"], show_default=True,
              help="Data set(s) to test on, comma list, `all` (prepared benchmark sets) or "
                   "`all+generated` (and the generated ones).")
@click.option("--seeds", "seed_count", metavar="N",
              help="Seeds 0 .. N-1 (default: every seed trained).")
@click.option("--seed", "seed_list", metavar="S[,S...]", help="Exactly these seeds.")
@click.option("--protocol",
              help="Only runs under this protocol: name, hash prefix or TOML file (default: "
                   "any; with --weights, the test preprocessing: default zedda2024).")
@click.option("--force", is_flag=True, help="Test again on targets that have scores already.")
@click.option("--weights", type=click.Path(dir_okay=False, path_type=Path),
              help="A checkpoint trained outside bench (safetensors or a state dict) of the "
                   "architecture --model names: tested as it is, recorded with source `external`.")
@click.option("--class-order", "class_order", metavar="L,M,N,E,B",
              help="With --weights: the order of the classifier's five outputs (letters or "
                   "class names), unless the file states it (safetensors metadata class_order).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto",
              show_default=True, help="Where to run the test.")
@click.option("--workers", type=int, default=0, show_default=True,
              help="Data loader worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def evaluate_command(models, sources, targets, seed_count, seed_list, protocol, force, weights,
                     class_order, device, workers, as_json) -> None:
    """Test the best checkpoints of finished runs on targets, without training.

    The scores are recorded as a run's are, so boards show them; targets a run was tested on
    already are skipped unless --force. With --weights, test a checkpoint trained outside bench
    instead (`bench evaluate --model resnet18 --weights mine.pt --target all --class-order
    N,L,M,E,B`); its cell has source `external` and init weights:<sha12>.
    """
    from bench.engine.finished_cells import EvaluateRequest, evaluate_cells, result_rows
    from bench.engine.options import seeds_from
    from bench.engine.run_display import QuietListener, display_for

    seeds = None if seed_count is None and seed_list is None else seeds_from(seed_count,
                                                                             seed_list)
    listener = QuietListener() if as_json else display_for(console)
    if weights is not None:
        results = [_evaluate_external(models, sources, targets, seeds, protocol, weights,
                                      class_order, force, device, workers, listener)]
    else:
        if class_order:
            raise OptionError("--class-order goes with --weights (a checkpoint trained outside "
                              "bench); bench's own runs are in its order already.")
        if not sources:
            raise OptionError("--source: name the data set(s) the model was trained on, or "
                              "give --weights FILE to test a checkpoint trained elsewhere.")
        request = EvaluateRequest(models=models, sources=sources, targets=targets, seeds=seeds,
                                  protocol=protocol, force=force, device=device,
                                  workers=workers)
        results = evaluate_cells(request, listener)
    from bench.metrics import DEFAULT_METRIC

    rows = result_rows(results)
    for row in rows:  # one compact column per target: its F1 in percent (JSON: every metric)
        for target, metrics in (row["scores"] if as_json else row.pop("scores")).items():
            row[f"{DEFAULT_METRIC} {target}"] = round(100 * metrics[DEFAULT_METRIC], 1)
    columns = ["model", "source", "seed", "status", "detail"]
    columns += sorted({key for row in rows for key in row if key.startswith("f1 ")})
    emit_table(rows, columns, title="bench evaluate", as_json=as_json, keys=["model", "source"])
    failed = [result for result in results if result.status == "failed"]
    if failed:
        lines = [f"{len(failed)} of {len(results)} runs could not be tested:"]
        lines += [f"  {result.label}: {result.detail}" for result in failed]
        raise BenchError("\n".join(lines))


def _evaluate_external(models, sources, targets, seeds, protocol, weights, class_order, force,
                       device, workers, listener):
    from bench.engine.external import (
        ExternalRequest,
        check_no_training_options,
        evaluate_external,
    )
    from bench.protocols import load_protocol
    from bench.store import open_store

    check_no_training_options(sources, seeds)
    names = [part.strip() for value in models for part in value.split(",") if part.strip()]
    if len(names) != 1 or names[0].lower() == "all":
        raise OptionError("--model: name the one architecture the --weights checkpoint was "
                          "trained with, e.g. --model resnet152.")
    request = ExternalRequest(model=names[0], weights=weights, targets=targets,
                              protocol=load_protocol(protocol or "zedda2024"),
                              class_order=class_order, force=force, device=device,
                              workers=workers)
    try:
        return evaluate_external(request, listener, open_store())
    finally:
        listener.close()


COMMANDS = [evaluate_command]
