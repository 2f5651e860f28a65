"""What a run shows while it works: a listener interface and its rich implementation."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

if TYPE_CHECKING:
    from bench.engine.plans import CellPlan


class Listener:
    """Events of a benchmark run; every method is optional to override."""

    def on_matrix_start(self, total: int) -> None: ...
    def on_cell_start(self, plan: CellPlan, train_images: int, resumed_epoch: int) -> None: ...
    def on_batch(self, epoch: int, batch: int, batches: int, loss: float, rate: float) -> None: ...
    def on_epoch(self, epoch: int, values: dict[str, float]) -> None: ...
    # the epochs a resumed cell read back from its checkpoint (rows lost to a kill are redone)
    def on_history(self, history: list[dict[str, float]]) -> None: ...
    def on_evaluate(self, target: str) -> None: ...
    def on_cell_end(self, label: str, status: str, detail: str = "") -> None: ...
    def notice(self, message: str) -> None: ...
    def close(self) -> None: ...


class QuietListener(Listener):
    """For tests and library use: notices are kept, nothing is printed."""

    def __init__(self) -> None:
        self.notices: list[str] = []

    def notice(self, message: str) -> None:
        self.notices.append(message)


class RichListener(Listener):
    """A live display: matrix cell, epoch, batch, loss, validation score, speed, time left."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
        )
        self.status = Text("")
        self.live = Live(Group(self.progress, self.status), console=console,
                         refresh_per_second=4, transient=False)
        self.matrix = self.epochs = self.batches = None
        self._last_draw = 0.0

    def on_matrix_start(self, total: int) -> None:
        self.live.start()
        self.matrix = self.progress.add_task("cells", total=total, info="")

    def on_cell_start(self, plan: CellPlan, train_images: int, resumed_epoch: int) -> None:
        for task in (self.epochs, self.batches):
            if task is not None:
                self.progress.remove_task(task)
        resumed = f", resumed after epoch {resumed_epoch}" if resumed_epoch else ""
        self.progress.update(self.matrix, info=(
            f"{plan.model} on {plan.source}, seed {plan.seed} ({train_images} images{resumed})"))
        total = plan.protocol.training.max_epochs
        self.epochs = self.progress.add_task("  epochs", total=total, completed=resumed_epoch,
                                             info="")
        self.batches = self.progress.add_task("  batches", total=None, info="")

    def on_batch(self, epoch: int, batch: int, batches: int, loss: float, rate: float) -> None:
        now = time.monotonic()
        if batch != batches and now - self._last_draw < 0.25:
            return
        self._last_draw = now
        self.progress.update(self.batches, completed=batch, total=batches,
                             info=f"loss {loss:.3f}  {rate:.0f} img/s")

    def on_epoch(self, epoch: int, values: dict[str, float]) -> None:
        self.progress.update(self.epochs, completed=epoch, info=(
            f"val F1 {values['val_f1']:.3f}  val acc {values['val_accuracy']:.3f}  "
            f"loss {values['train_loss']:.3f}"))

    def on_evaluate(self, target: str) -> None:
        # A run tested again (`bench evaluate`) starts no cell: its line is the matrix's.
        task = self.matrix if self.batches is None else self.batches
        if task is not None:
            self.progress.update(task, info=f"testing on {target}")

    def on_cell_end(self, label: str, status: str, detail: str = "") -> None:
        self.progress.advance(self.matrix)
        colour = {"finished": "green", "failed": "red"}.get(status, "yellow")
        self.console.print(f"[{colour}]{status}[/] {label} {detail}", highlight=False)

    def notice(self, message: str) -> None:
        self.console.print(f"[yellow]notice:[/] {message}", highlight=False)

    def close(self) -> None:
        self.live.stop()
