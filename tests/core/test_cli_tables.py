"""Every listing command at an 80- and a 160-column terminal, and piped: no name is ever cut."""

from __future__ import annotations

import re

import pytest
from fixtures.cli import invoke
from rich.console import Console

import bench
import bench.cli.output as output
from bench.store import Cell

LONG_ERROR = ("RunError: CUDA out of memory at batch size 32 at 224 px; try --batch-size 16, "
              "or a smaller --image-size, or another device")


@pytest.fixture
def runs_in_store() -> list[str]:
    """Two recorded runs with real model and data set names, one failed with a long reason."""
    store = bench.open_store()
    ids = []
    for model, source, fails in (("inceptionv3", "raabin-cropped", False),
                                 ("mobilenetv3", "wbc-usid-c", True)):
        run_id = store.claim(Cell(model, source, 0, "zedda2024", "0123456789abcdef",
                                  "f" * 64))
        if fails:
            store.fail(run_id, LONG_ERROR)
        ids.append(run_id)
    return ids


def names_for(command: str, run_ids: list[str]) -> list[str]:
    registries = bench.get_registries()
    if command == "models list":
        return [spec.name for spec in registries.models]
    if command == "datasets list":
        return [spec.name for spec in registries.datasets]
    if command == "plugins":
        return [record.name for record in bench.get_plugins().records]
    return [*run_ids, "inceptionv3", "raabin-cropped", "mobilenetv3", "wbc-usid-c"]


def table_text(command: str, monkeypatch: pytest.MonkeyPatch, width: int | None) -> str:
    """Run a command at a terminal of ``width`` columns, or piped when ``width`` is None."""
    if width is not None:
        terminal = Console(force_terminal=True, width=width, color_system=None)
        monkeypatch.setattr(output, "console", terminal)
    result = invoke(*command.split())
    assert result.exit_code == 0, result.output
    return result.stdout


COMMANDS = ["models list", "datasets list", "runs list", "plugins"]


@pytest.mark.parametrize("width", [80, 160])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_terminal_table_fits_and_shows_every_name_whole(command, width, monkeypatch,
                                                          runs_in_store):
    text = table_text(command, monkeypatch, width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text  # rich's mark of a cut cell
    for name in names_for(command, runs_in_store):
        assert any(re.search(rf"(?<![\w:-]){re.escape(name)}(?![\w-])", line) for line in lines), \
            f"{name!r} is not shown whole on one line at {width} columns:\n{text}"
    if command == "runs list":  # the failure reason is there, in full, once the lines are joined
        assert LONG_ERROR in " ".join(text.split())


@pytest.mark.parametrize("command", COMMANDS)
def test_piped_output_is_plain_and_complete(command, monkeypatch, runs_in_store):
    monkeypatch.setenv("COLUMNS", "40")  # a narrow terminal must not narrow a file
    text = table_text(command, monkeypatch, None)
    assert "\x1b[" not in text and "…" not in text
    assert not any(ch in text for ch in "┃│━─┏└")  # no box drawing: plain ASCII columns
    lines = text.splitlines()
    header = next(line for line in lines if line.strip().startswith(("name", "id", "plugin")))
    assert lines[lines.index(header) + 1].strip().startswith("---")
    for name in names_for(command, runs_in_store):
        assert any(re.search(rf"(?<![\w:-]){re.escape(name)}(?![\w-])", line) for line in lines)
    assert all(line == line.rstrip() for line in lines)
    if command == "runs list":
        assert any(LONG_ERROR in line for line in lines)  # on one line, however narrow


def test_a_table_too_wide_to_fold_is_shown_one_record_per_row(monkeypatch):
    text = table_text("models list --all", monkeypatch, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Inception-V3: factorised multi-branch blocks, 299x299 input" in " ".join(text.split())
    assert re.search(r"^inceptionv3$", text, re.MULTILINE)  # the name heads its record
