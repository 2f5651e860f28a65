"""The README's notebook snippet runs as written against a small results store."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def notebook_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    [block] = [block for block in blocks if "from_store" in block]
    return block


def test_the_readme_notebook_snippet_runs_on_a_store(predicted_store: Path, bench_home: Path):
    shutil.copyfile(predicted_store, bench_home / "results.sqlite")
    printed = io.StringIO()
    namespace: dict = {}
    with contextlib.redirect_stdout(printed):
        exec(compile(notebook_snippet(), str(README), "exec"), namespace)  # noqa: S102
    output = printed.getvalue()
    assert "Cross data set" in output and "mF1 = macro F1" in output
    assert isinstance(namespace["recall"].per_class, dict)
    assert set(namespace["recall"].per_class) == {"L", "M", "N", "E", "B"}
    predictions = namespace["predictions"]
    assert len(predictions) > 0 and isinstance(predictions.probabilities.iloc[0], list)
