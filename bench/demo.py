"""The demo: the whole benchmark on embedded synthetic data, on any machine, in minutes.

It composes a base-level and a complex-level data set from the default cells generator,
trains one model on the complex level under the `quick` protocol, tests it on every prepared
data set and renders the leaderboard (markdown and a heat map). No download, no GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.engine.run_display import Listener
from bench.errors import PluginError
from bench.home import subdir
from bench.host import get_registries
from bench.metrics import DEFAULT_METRIC

LEVELS = {"demo-b": "base", "demo-c": "complex"}


@dataclass
class DemoSettings:
    model: str | None = None  # None: the installed models' demo model (`demo_model`)
    cells: str | None = None  # None: the default cells generator
    train: int = 1000
    test: int = 500
    size: int = 64
    epochs: int | None = None  # None: the quick protocol's
    seed: int = 0


@dataclass
class DemoResult:
    leaderboard: Path
    heatmaps: list[Path] = field(default_factory=list)
    markdown: str = ""


def demo_model() -> str:
    """The model the demo trains when none is named: the one a model plugin offers for it.

    The core names none itself, as for the default generators.
    """
    registry = get_registries().models
    offered = sorted({spec.demo for spec in map(registry.get, registry.names()) if spec.demo})
    if len(offered) != 1:
        found = ", ".join(offered) or "no installed model plugin offers one"
        raise PluginError(f"no demo model ({found}): name one with `bench demo --model NAME` "
                          "(`bench models list`).")
    return offered[0]


def run_demo(settings: DemoSettings, listener: Listener, out_dir: Path | None = None
             ) -> DemoResult:
    """Generate, train, test, render; every step is skipped when already done."""
    from bench.engine.runner import RunRequest, run_benchmark
    from bench.generation.contract import default_generator
    from bench.generation.datasets import generate_dataset
    from bench.leaderboard.make import BoardRequest, make_boards
    from bench.leaderboard.plots import draw, heatmap_jobs
    from bench.protocols import load_protocol

    model = settings.model or demo_model()  # before composing anything
    cells = settings.cells or default_generator("cells")
    for name, level in LEVELS.items():
        listener.notice(f"composing {name} ({level} level, {cells} cells)")
        generate_dataset(name, cells=cells, level=level, train=settings.train,
                         test=settings.test, size=settings.size, seed=settings.seed)
    protocol = load_protocol("quick").with_overrides(training={"max_epochs": settings.epochs})
    # Its own sets by name (`all` is the benchmark sets, which it tests on when prepared).
    request = RunRequest(models=[model], sources=["demo-c"], targets=[*LEVELS, "all"],
                         protocol=protocol, seeds=[settings.seed], pretrained=False)
    run_benchmark(request, listener)

    out_dir = out_dir or subdir("demo")
    out_dir.mkdir(parents=True, exist_ok=True)
    board_set = make_boards(BoardRequest(cross=True, protocol=protocol.hash))
    markdown = board_set.render("md")
    board_path = out_dir / "leaderboard.md"
    board_path.write_text(markdown, encoding="utf-8")
    heatmaps = [path for group in board_set.groups
                for job in heatmap_jobs(group, board_set.names, out_dir, metric=DEFAULT_METRIC)
                for path in draw(job)]
    return DemoResult(board_path, heatmaps, markdown)
