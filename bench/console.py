"""The one console and progress style for everything bench prints (rich).

Tables and results go to ``console`` (stdout); progress, notices and errors go to ``errors``
(stderr), so ``--json`` output on stdout stays parseable while long work shows progress.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich import filesize
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

console = Console()
errors = Console(stderr=True)
HEARTBEAT_SECONDS = 30.0  # off a terminal, long work says where it is at least this often


def duration(seconds: float) -> str:
    """``0:04:05``: hours, minutes and seconds, as rich's time columns show them."""
    whole = max(int(round(seconds)), 0)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class LineProgress(Progress):
    """Off a terminal, where a live bar says nothing until it ends: plain lines instead.

    A line when a task finishes, and its state at least every ``HEARTBEAT_SECONDS`` while it
    works (checked whenever it moves), so a log of a long prepare or download is never silent.
    """

    def __init__(self, *columns: ProgressColumn, console: Console, unit: str = "items",
                 interval: float = HEARTBEAT_SECONDS, get_time: Callable[[], float] | None = None):
        super().__init__(*columns, console=console, disable=True, get_time=get_time)
        self.unit, self.interval = unit, interval
        self._said: dict[TaskID, float | None] = {}  # last line's time; None once finished

    def add_task(self, description: str, *args: Any, **kwargs: Any) -> TaskID:
        task_id = super().add_task(description, *args, **kwargs)
        self._said[task_id] = self.get_time()
        return task_id

    def update(self, task_id: TaskID, **kwargs: Any) -> None:
        super().update(task_id, **kwargs)
        self._log(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._log(task_id)

    def _amount(self, value: float | None) -> str:
        if value is None:
            return "?"
        return filesize.decimal(int(value)) if self.unit == "bytes" else f"{int(value):,}"

    def _log(self, task_id: TaskID) -> None:
        task, last, now = self._tasks[task_id], self._said.get(task_id), self.get_time()
        if last is None or not (task.finished or now - last >= self.interval):
            return
        line = (f"{task.description}: {self._amount(task.completed)}/{self._amount(task.total)}"
                f", elapsed {duration(task.elapsed or 0.0)}")
        if not task.finished and task.time_remaining is not None:
            line += f", left ~{duration(task.time_remaining)}"
        if task.fields.get("note"):
            line += f", {task.fields['note']}"
        self.console.print(line, highlight=False, soft_wrap=True)
        self._said[task_id] = None if task.finished else now


def progress_bar(enabled: bool = True, *, unit: str = "items", transient: bool = False,
                 note: bool = False) -> Progress:
    """A progress bar on stderr: counts (``unit="items"``) or bytes (``unit="bytes"``).

    ``note`` adds a free-text column (``task.fields["note"]``), e.g. a training loss. Off a
    terminal it is a :class:`LineProgress`: a line per task when it ends, and while it works.
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
    if enabled and not errors.is_terminal:
        return LineProgress(*columns, console=errors, unit=unit)
    return Progress(*columns, console=errors, disable=not enabled, transient=transient)


Update = Callable[..., None]  # (stage, done, total, loss=None)


@contextlib.contextmanager
def stage_progress(label: str) -> Iterator[Update]:
    """One bar per stage (a class, a split); off a terminal, lines. Yields the update call."""
    tasks: dict[str, int] = {}
    with progress_bar(True, note=True) as bar:

        def update(stage: str, done: int, total: int, loss: float | None = None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{label} {stage}", total=total, note="")
            note = f"loss {loss:.4f}" if loss is not None else ""
            bar.update(tasks[stage], completed=done, total=total, note=note)

        yield update
