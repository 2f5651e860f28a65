"""A paired comparison on the terminal: rich tables of differences and McNemar tests."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.leaderboard.comparison import Comparison
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


def print_comparison(result: Comparison, console: Console) -> None:
    level = f"{result.level * 100:g} %"
    table = Table(title=Text(f"{result.model_a} vs {result.model_b}, trained on {result.source}, "
                             f"tested on {result.target} ({result.protocol}, "
                             f"{result.protocol_hash[:8]})"), title_justify="left")
    for name in ("metric", result.model_a, result.model_b, "A - B", f"{level} interval",
                 "p (bootstrap)"):
        table.add_column(Text(name), justify="left" if name == "metric" else "right")
    for d in result.differences:
        table.add_row(Text(title(d.metric)), f"{d.value_a:.1f}", f"{d.value_b:.1f}",
                      f"{d.difference:+.1f}", f"[{d.ci_low:+.1f}, {d.ci_high:+.1f}]",
                      bootstrap_p_text(d.p_value, result.resamples))
    table.caption = Text(f"Scores in %; paired bootstrap over the same test images, "
                         f"{result.resamples:,} resamples stratified by class (seeds resampled "
                         "too when there are several).")
    table.caption_justify = "left"
    console.print(table)
    mcnemar = Table(title=Text("McNemar's exact test (right/wrong per image)"),
                    title_justify="left")
    for name in ("seeds (A, B)", "images", f"only {result.model_a} right",
                 f"only {result.model_b} right", "p"):
        mcnemar.add_column(Text(name), justify="right")
    for pair in result.pairs:
        mcnemar.add_row(f"{pair.seed_a}, {pair.seed_b}", str(pair.images),
                        str(pair.mcnemar.only_a), str(pair.mcnemar.only_b),
                        f"{pair.mcnemar.p_value:.3g}")
    console.print(mcnemar)
