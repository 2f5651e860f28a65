"""What a run shows: elapsed and time left at 80 columns; plain lines in a log, never silent."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

from fixtures.cli import invoke
from rich.console import Console

from bench.console import LineProgress
from bench.engine.run_display import LineListener, RichListener, display_for

PLAN = SimpleNamespace(model="timm:resnet18", source="demo-c", seed=0,
                       protocol=SimpleNamespace(training=SimpleNamespace(max_epochs=4),
                                                cell_epochs=4))
SCORES = {"val_f1": 0.9, "val_accuracy": 0.91, "train_loss": 0.4}
TIME = r"(\d+:\d\d:\d\d|-:--:--)"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_live_display_keeps_elapsed_and_time_left_at_80_columns():
    listener = RichListener(Console(file=io.StringIO(), width=80, force_terminal=True))
    listener.on_matrix_start(3)
    listener.on_cell_start(PLAN, 1000, 0)
    listener.on_batch(1, 10, 32, 0.5123, 85.3)
    listener.on_epoch(1, SCORES)
    listener.close()
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(listener.progress.get_renderable())
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all(len(line) <= 80 for line in lines)
    for line in lines:  # elapsed, then time left, both whole
        assert re.search(rf"\d+/\d+ +{TIME} +{TIME}", line), line


def test_off_a_terminal_a_line_per_epoch_and_one_at_least_every_30_seconds():
    out, clock = io.StringIO(), Clock()
    listener = LineListener(Console(file=out, width=80), clock=clock, heartbeat=False)
    listener.on_matrix_start(1)
    listener.on_cell_start(PLAN, 1000, 0)
    for batch in range(1, 33):  # a batch every 2 s: one line after 30 s, not one per batch
        clock.now += 2
        listener.on_batch(1, batch, 32, 0.5, 16.0)
    listener.on_epoch(1, SCORES)
    clock.now += 10
    listener.on_batch(2, 1, 32, 0.4, 3.2)  # said by nobody yet: 10 s since the last line
    clock.now += 25  # a slow batch: the heartbeat says the latest state again
    listener.beat()
    listener.beat()  # once per interval, not per call
    listener.on_cell_end("timm:resnet18 on demo-c (seed 0)", "finished")
    lines = out.getvalue().splitlines()
    assert lines[0] == ("cell 1/1: timm:resnet18 on demo-c, seed 0 (1000 images; at most 4 "
                        "epochs)")
    assert lines[1] == ("  epoch 1/4 batch 15/32: loss 0.500, 16 img/s, epoch left ~0:00:34, "
                        "elapsed 0:00:30")
    assert lines[2].startswith("  epoch 1/4 batch 30/32:") and "elapsed 0:01:00" in lines[2]
    assert lines[3] == ("  epoch 1/4: val F1 0.900, val acc 0.910, loss 0.400; elapsed 0:01:04, "
                        "left at most ~0:03:12")
    assert lines[4] == ("  epoch 2/4 batch 1/32: loss 0.400, 3 img/s, epoch left ~0:05:10, "
                        "elapsed 0:01:39")
    assert lines[5] == "finished timm:resnet18 on demo-c (seed 0)"
    assert len(lines) == 6


def test_the_heartbeat_thread_speaks_during_a_silent_stretch():
    out = io.StringIO()
    listener = LineListener(Console(file=out, width=80), interval=0.01)
    listener.on_matrix_start(1)
    listener.on_cell_start(PLAN, 10, 0)
    listener.state = "  epoch 1/4 batch 1/2: loss 1.000, 1 img/s, epoch left ~0:00:01"
    listener.last_line -= 1  # nothing said for a while
    for _ in range(500):  # wait for the thread (no timing is asserted)
        if "batch 1/2" in out.getvalue():
            break
        listener._stop.wait(0.01)
    listener.close()
    assert "epoch 1/4 batch 1/2" in out.getvalue()


def test_a_console_that_is_not_a_terminal_gets_lines():
    assert isinstance(display_for(Console(file=io.StringIO())), LineListener)
    assert isinstance(display_for(Console(file=io.StringIO(), force_terminal=True)),
                      RichListener)


def test_progress_bars_off_a_terminal_say_where_they_are():
    out, clock = io.StringIO(), Clock()
    with LineProgress(console=Console(file=out, width=80), get_time=clock) as bar:
        task = bar.add_task("Preparing PBC", total=100)
        for _ in range(100):
            clock.now += 1
            bar.advance(task)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Preparing PBC: 30/100, elapsed 0:00:30, left ~")
    assert lines[-1] == "Preparing PBC: 100/100, elapsed 0:01:40"
    assert len(lines) == 4  # at 30, 60 and 90 s, and when done


def test_bench_run_into_a_file_prints_a_line_per_epoch(tiny_world):
    result = invoke("run", "--protocol", "quick", "--image-size", "16",
                    "--batch-size", "8", "--no-pretrained", "--model", "tiny",
                    "--source", "colours-a", "--target", "colours-a",
                    "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert re.search(r"epoch 1/2: val F1 \d\.\d{3}, val acc \d\.\d{3}, loss \d+\.\d{3}; "
                     r"elapsed \d:\d\d:\d\d, left at most ~\d:\d\d:\d\d", result.output)
    assert "epoch 2/2: val F1" in result.output and "testing on colours-a" in result.output
