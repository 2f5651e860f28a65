"""What a run shows while it works: a listener interface and two displays.

A live display at a terminal; plain lines for a log (one per epoch, and one at least every
30 seconds while an epoch trains).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
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
from rich.table import Column
from rich.text import Text

from bench.console import HEARTBEAT_SECONDS, duration

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
        fixed = {"no_wrap": True, "overflow": "ignore"}  # counts and times are never cut
        self.progress = Progress(
            TextColumn("{task.description}", table_column=Column(no_wrap=True, width=9)),
            BarColumn(bar_width=12),
            MofNCompleteColumn(table_column=Column(**fixed, min_width=5)),
            TimeElapsedColumn(table_column=Column(**fixed, min_width=7)),
            TimeRemainingColumn(table_column=Column(**fixed, min_width=7)),
            # what is left of an 80-column line: long details end in "...", never wrap
            TextColumn("{task.fields[info]}",
                       table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")),
            console=console,
            expand=True,
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
        total = plan.protocol.cell_epochs
        self.epochs = self.progress.add_task("  epochs", total=total, completed=resumed_epoch,
                                             info="")
        self.batches = self.progress.add_task("  batches", total=None, info="")

    def on_batch(self, epoch: int, batch: int, batches: int, loss: float, rate: float) -> None:
        now = time.monotonic()
        if batch != batches and now - self._last_draw < 0.25:
            return
        self._last_draw = now
        doing = f"loss {loss:.3f}" if math.isfinite(loss) else "embedding"  # a probe's backbone
        self.progress.update(self.batches, completed=batch, total=batches,
                             info=f"{doing}  {rate:.0f} img/s")

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


class LineListener(Listener):
    """Output that is not a terminal (a log file, CI): plain lines, never a silent stretch.

    A line per cell, per epoch (validation scores, elapsed, time left) and per target tested;
    while an epoch trains, the latest batch's line at least every ``interval`` seconds, from a
    heartbeat thread too, so a slow batch cannot silence the log either.
    """

    def __init__(self, console: Console, interval: float = HEARTBEAT_SECONDS,
                 clock: Callable[[], float] = time.monotonic, heartbeat: bool = True):
        self.console, self.interval, self.clock = console, interval, clock
        self.total = self.done = self.max_epochs = self.first_epoch = 0
        self.cell_started = self.epoch_started = self.last_line = clock()
        self.state = ""  # the latest batch, said again by the heartbeat
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.heartbeat = heartbeat
        self._thread: threading.Thread | None = None

    def _say(self, line: str) -> None:
        with self._lock:
            self.console.print(line, highlight=False, soft_wrap=True)
            self.last_line = self.clock()

    def _beat(self) -> None:
        while not self._stop.wait(min(self.interval, 1.0)):
            self.beat()

    def beat(self) -> None:
        """Say the latest state again if nothing was said for ``interval`` seconds."""
        if self.state and self.clock() - self.last_line >= self.interval:
            self._say(f"{self.state}, elapsed {duration(self.clock() - self.cell_started)}")

    def on_matrix_start(self, total: int) -> None:
        self.total, self.done = total, 0
        if self.heartbeat and (self._thread is None or not self._thread.is_alive()):
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()

    def on_cell_start(self, plan: CellPlan, train_images: int, resumed_epoch: int) -> None:
        self.max_epochs, self.first_epoch = plan.protocol.training.max_epochs, resumed_epoch
        self.cell_started = self.epoch_started = self.clock()
        self.state = ""
        resumed = f", resumed after epoch {resumed_epoch}" if resumed_epoch else ""
        self._say(f"cell {self.done + 1}/{self.total}: {plan.model} on {plan.source}, seed "
                  f"{plan.seed} ({train_images} images{resumed}; at most {self.max_epochs} "
                  f"epochs)")

    def on_batch(self, epoch: int, batch: int, batches: int, loss: float, rate: float) -> None:
        now = self.clock()
        seconds = now - self.epoch_started
        left = seconds / batch * (batches - batch) if batch else 0.0
        self.state = (f"  epoch {epoch}/{self.max_epochs} batch {batch}/{batches}: loss "
                      f"{loss:.3f}, {rate:.0f} img/s, epoch left ~{duration(left)}")
        if now - self.last_line >= self.interval:
            self._say(f"{self.state}, elapsed {duration(now - self.cell_started)}")

    def on_epoch(self, epoch: int, values: dict[str, float]) -> None:
        now = self.clock()
        trained = max(epoch - self.first_epoch, 1)
        left = (now - self.cell_started) / trained * (self.max_epochs - epoch)
        self.epoch_started, self.state = now, ""
        self._say(f"  epoch {epoch}/{self.max_epochs}: val F1 {values['val_f1']:.3f}, val acc "
                  f"{values['val_accuracy']:.3f}, loss {values['train_loss']:.3f}; elapsed "
                  f"{duration(now - self.cell_started)}, left at most ~{duration(left)}")

    def on_evaluate(self, target: str) -> None:
        self.state = ""
        self._say(f"  testing on {target}")

    def on_cell_end(self, label: str, status: str, detail: str = "") -> None:
        self.done += 1
        self.state = ""
        self._say(f"{status} {label} {detail}".rstrip())

    def notice(self, message: str) -> None:
        self._say(f"notice: {message}")

    def close(self) -> None:
        self._stop.set()


def display_for(console: Console) -> Listener:
    """The live display on a terminal, plain lines anywhere else (a file, a pipe, CI)."""
    return RichListener(console) if console.is_terminal else LineListener(console)
