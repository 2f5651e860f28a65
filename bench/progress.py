"""The one console and progress style for everything bench prints (rich).

Tables and results go to ``console`` (stdout); progress, notices and errors go to ``errors``
(stderr), so ``--json`` output on stdout stays parseable while long work shows progress.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

console = Console()
errors = Console(stderr=True)


def progress_bar(enabled: bool = True, *, unit: str = "items", transient: bool = False,
                 note: bool = False) -> Progress:
    """A progress bar on stderr: counts (``unit="items"``) or bytes (``unit="bytes"``).

    ``note`` adds a free-text column (``task.fields["note"]``), e.g. a training loss.
    """
    columns: list[ProgressColumn] = [TextColumn("[progress.description]{task.description}"),
                                     BarColumn()]
    if unit == "bytes":
        columns += [DownloadColumn(), TransferSpeedColumn()]
    else:
        columns += [MofNCompleteColumn(), TimeElapsedColumn()]
    if note:
        columns.append(TextColumn("{task.fields[note]}"))
    columns.append(TimeRemainingColumn())
    return Progress(*columns, console=errors, disable=not enabled, transient=transient)


Update = Callable[..., None]  # (stage, done, total, loss=None)


@contextlib.contextmanager
def stage_progress(label: str) -> Iterator[Update]:
    """One bar per stage (a class, a split), shown only on a terminal; yields the update call."""
    tasks: dict[str, int] = {}
    with progress_bar(errors.is_terminal, note=True) as bar:

        def update(stage: str, done: int, total: int, loss: float | None = None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{label} {stage}", total=total, note="")
            note = f"loss {loss:.4f}" if loss is not None else ""
            bar.update(tasks[stage], completed=done, total=total, note=note)

        yield update
