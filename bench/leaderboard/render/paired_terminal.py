"""A paired comparison on the terminal: rich tables of differences and McNemar tests."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.leaderboard.compare_cells import Comparison
from bench.metrics import title


def bootstrap_p_text(p_value: float, resamples: int) -> str:
    """``0.034``, or ``< 0.002`` at the smallest p that ``resamples`` replicates can give.

    The bootstrap's p is at least 2 / (resamples + 1): a value there means "this small or
    smaller", and is shown rounded up to one significant digit.
    """
    floor = 2 / (resamples + 1)
    if p_value > floor * (1 + 1e-9):
        return f"{p_value:.3g}"
    step = 10 ** math.floor(math.log10(floor))
    return f"< {math.ceil(floor / step - 1e-9) * step:.1g}"


def _heading(result: Comparison) -> str:
    a, b = result.a, result.b
    if a.model == b.model and a.target == b.target:
        what = f"{a.model} trained on {a.source} vs on {b.source}, tested on {a.target}"
    elif a.model == b.model:
        what = f"{a.describe()} vs {b.describe()}"
    else:
        what = f"{a.model} vs {b.model}, trained on {a.source}, tested on {a.target}"
    return f"{what} ({result.protocol}, {result.protocol_hash[:8]})"


def print_comparison(result: Comparison, console: Console) -> None:
    level = f"{result.level * 100:g} %"
    name_a, name_b = result.names
    table = Table(title=Text(_heading(result)), title_justify="left")
    test = "p (Welch t)" if result.unit == "recipe" else "p (bootstrap)"
    for name in ("metric", name_a, name_b, "A - B", f"{level} interval", test):
        table.add_column(Text(name), justify="left" if name == "metric" else "right")
    for d in result.differences:
        table.add_row(Text(title(d.metric)), f"{d.value_a:.1f}", f"{d.value_b:.1f}",
                      f"{d.difference:+.1f}", f"[{d.ci_low:+.1f}, {d.ci_high:+.1f}]",
                      bootstrap_p_text(d.p_value, result.resamples)
                      if result.unit == "model" else f"{d.p_value:.3g}")
    paired = f"{result.images:,} test images paired by image key"
    if result.unpaired:
        paired += f" ({result.unpaired} without a partner left out)"
    table.caption = Text(f"Scores in %, means over seeds; {paired}; {result.resamples:,} "
                         f"resamples stratified by class. About {result.unit_text}.")
    table.caption_justify = "left"
    console.print(table)
    mcnemar = Table(title=Text("McNemar's exact test (right/wrong per image)"),
                    title_justify="left")
    for name in ("seeds (A, B)", "images", f"only {name_a} right", f"only {name_b} right",
                 "p"):
        mcnemar.add_column(Text(name), justify="right")
    for pair in result.pairs:
        mcnemar.add_row(f"{pair.seed_a}, {pair.seed_b}", str(pair.images),
                        str(pair.mcnemar.only_a), str(pair.mcnemar.only_b),
                        f"{pair.mcnemar.p_value:.3g}")
    console.print(mcnemar)
