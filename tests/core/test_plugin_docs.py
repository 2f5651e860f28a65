"""docs/plugins.md cannot drift: its hooks, fields and methods are the code's, its code runs.

The Python blocks headed ``# my_cells/plugin.py`` are one plugin module: it is installed as a
distribution and must pass ``bench plugins check``; the block headed ``# tests/...`` is run as
that plugin's own test suite.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from pathlib import Path

import pytest
from fixtures.cli import invoke

import bench
import bench.hookspecs
from bench.specs import Download, SourceImage, Spec

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, flags=re.S)
PLUGIN = "\n\n".join(code for lang, code in BLOCKS
                     if lang == "python" and code.startswith("# my_cells/plugin.py"))
TESTS = next(code for lang, code in BLOCKS if lang == "python" and code.startswith("# tests/"))


def table_after(marker: str) -> list[str]:
    """First-column names (backticked, arguments dropped) of the first table after ``marker``."""
    start = TEXT.index(marker)
    lines = TEXT[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2:]:  # skip the header and its rule
        if not line.startswith("|"):
            break
        rows.append(re.match(r"\| `([^`(]+)", line).group(1))
    return rows


def own_fields(cls: type) -> list[str]:
    inherited = {f.name for f in dataclasses.fields(Spec)} if cls is not Spec and issubclass(
        cls, Spec) else set()
    return [f.name for f in dataclasses.fields(cls) if f.name not in inherited]


@pytest.mark.parametrize(("marker", "cls"), [
    ("## Fields every spec shares", Spec),
    ("## Data sets: `DatasetSpec`", bench.DatasetSpec),
    ("A `Download` is", Download),
    ("### The `scan` contract", SourceImage),
    ("## Models: `ModelSpec`", bench.ModelSpec),
    ("## Generators: `GeneratorSpec`", bench.GeneratorSpec),
])
def test_every_spec_field_has_one_row_in_its_table(marker, cls):
    assert table_after(marker) == own_fields(cls)


def test_every_model_factory_method_is_documented():
    methods = [name for name, _ in inspect.getmembers(bench.ModelFactory, inspect.isfunction)
               if not name.startswith("_")]
    assert sorted(table_after("| `ModelFactory` method |")) == sorted(methods)


def test_every_hook_has_a_section_and_every_section_is_a_hook():
    hooks = {name for name, function in inspect.getmembers(bench.hookspecs, inspect.isfunction)
             if hasattr(function, "bench_spec")}
    documented = set(re.findall(r"^### `(\w+)\(", TEXT, flags=re.M))
    assert documented == hooks and len(hooks) == 5


def test_the_documented_plugin_installs_and_passes_bench_plugins_check(install_distribution,
                                                                       tmp_path):
    toml = next(code for lang, code in BLOCKS if lang == "toml")
    entry_point = re.search(r"^(\w+) = ", toml, flags=re.M).group(1)
    install_distribution("my-cells", {entry_point: "my_cells_plugin"}, {"my_cells_plugin": PLUGIN})
    result = invoke("plugins", "check", entry_point, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {row["name"]: row["result"] for row in rows} == dict.fromkeys(
        ["my-cells", "discs", "my-resnet18", "tiny-cnn", "wide-cnn"], "pass")
    command = invoke("my-cells-info")
    assert command.exit_code == 0 and command.output.strip().endswith("my-sets")

    namespace: dict = {}
    exec(compile(TESTS, f"{DOC}:tests", "exec"), namespace)  # noqa: S102
    tests = {name: test for name, test in namespace.items() if name.startswith("test_")}
    assert len(tests) == 3
    for name, test in tests.items():
        folder = tmp_path / name
        folder.mkdir()
        test(folder) if "tmp_path" in inspect.signature(test).parameters else test()


def test_the_readme_links_the_reference():
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    assert "(docs/plugins.md)" in readme
