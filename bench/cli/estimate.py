"""`bench run --dry-run`: the cells a run would train, and what they cost here."""

from __future__ import annotations

import json
from dataclasses import asdict

from bench.cli.output import click_echo, console, emit_table, errors


def print_dry_run(request, as_json: bool) -> None:
    """Resolve the matrix as `bench run` does, time one step per model, print; run nothing."""
    from bench.engine.progress import QuietListener
    from bench.engine.runner import dry_run

    listener = QuietListener()
    estimate = dry_run(request, listener)
    warning = estimate.warning()
    if as_json:
        click_echo(json.dumps({
            "cells": [asdict(cell) for cell in estimate.cells],
            "max_epochs": estimate.max_epochs, "device": estimate.device,
            "seconds": estimate.seconds, "checkpoint_bytes": estimate.checkpoint_bytes,
            "measured": estimate.measured, "warning": warning, "notices": listener.notices,
        }, indent=2))
        return
    for notice in listener.notices:
        console.print(f"[yellow]notice:[/] {notice}", highlight=False, soft_wrap=True)
    emit_table(estimate.rows(), ["model", "source", "seed", "status", "epochs", "time", "disk",
                                 "detail"],
               title=f"bench run --dry-run ({request.protocol.name}, {request.protocol.hash})",
               keys=["model", "source"])
    console.print(f"dry run: {estimate.summary()}", highlight=False, soft_wrap=True)
    if warning:
        errors.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    console.print("Nothing was trained or recorded; give the command without --dry-run to "
                  "run it.", highlight=False)
