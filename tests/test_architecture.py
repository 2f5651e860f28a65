"""The boundaries a newcomer can rely on, checked on the source itself.

- the core (``bench/``) imports no model library and names no concrete data set, model or
  generator; production code never resets the plugin host;
- first-party plugins and the example plugin use the contract (``bench``) and the plugin kit
  (``bench.kit``) only;
- the import graph of ``bench/`` has no cycle, lazy (in-function) and type-level
  (``if TYPE_CHECKING:``) imports included;
- a metric's name is spelled in ``bench/metrics.py`` only: the rest of the core reads the table;
- no module of the core is over 450 lines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "bench"
PLUGINS = ROOT / "plugins"
EXAMPLES = ROOT / "examples"
PUBLIC = {"bench", "bench.kit"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import the interpreter can execute: type-checking blocks are skipped."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _all_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, type-checking blocks and function bodies included."""
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in _all_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [owner(alias.name) for alias in node.names]
            elif node.level == 0 and node.module:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                           else owner(node.module) for a in node.names]
            else:
                targets = []
            graph[name] |= {t for t in targets if t and t != name and t.startswith("bench")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_of_the_core_has_no_cycle():
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_sees_lazy_and_type_level_imports():
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
              "def f():\n    import b\n")
    found = {alias.name for node in _all_imports(ast.parse(source)) for alias in node.names}
    assert {"a", "b"} <= found
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


MAX_LINES = 450


def test_no_module_of_the_core_is_over_450_lines():
    long = {str(path.relative_to(ROOT)): lines for path in sorted(CORE.rglob("*.py"))
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_two_modules_of_the_core_share_a_name():
    """A name says which module it is; `bench/cli/` is exempt (named after its commands)."""
    homes: dict[str, list[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        if path.name != "__init__.py" and "cli" not in path.relative_to(CORE).parts[:-1]:
            homes.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
    assert {stem: paths for stem, paths in homes.items() if len(paths) > 1} == {}


METRICS_TABLE = CORE / "metrics.py"
# Strings that equal a metric's name but mean something else, with what they mean.
NOT_A_METRIC = {
    ("bench/engine/backbone.py", "precision"): "the numeric precision of cached embeddings",
    ("bench/site/cell_page.py", "accuracy"): "a reliability bin's accuracy, a column of its table",
    ("bench/site/expected.py", "accuracy"): "a reliability bin's accuracy, a column of its table",
}


def _docstrings(tree: ast.AST) -> set[int]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}


def _metric_spellings(names: set[str]) -> list[str]:
    found = []
    for path in sorted(CORE.rglob("*.py")):
        if path == METRICS_TABLE:
            continue
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        found += [f"{where}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in names
                  and id(node) not in docstrings and (where, node.value) not in NOT_A_METRIC]
    return found


def test_a_metric_name_is_spelled_only_in_the_metric_table():
    """Defaults, keys and comparisons read ``bench.metrics`` (DEFAULT_METRIC, PER_CLASS, ...)."""
    from bench.metrics import METRICS

    assert _metric_spellings(set(METRICS)) == []


def test_the_metric_spelling_check_finds_a_spelled_metric(tmp_path: Path, monkeypatch):
    from bench.metrics import METRICS

    assert "ece" in METRICS
    spelled = tmp_path / "bench" / "spelled.py"
    spelled.parent.mkdir()
    spelled.write_text('"""ece in a docstring is prose."""\nWORST = "ece"\n', encoding="utf-8")
    monkeypatch.setitem(globals(), "CORE", spelled.parent)
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert _metric_spellings({"ece"}) == ["bench/spelled.py:2: 'ece'"]


# The one core module that may talk to the Hugging Face hub: pretrained files are a core service
# (the offline weights folder, `bench weights`, one fast failure for every model plugin), and
# huggingface_hub is the hub's download client, not a model library.
HUB_CLIENT = CORE / "hub.py"


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: p.name)
def test_the_core_imports_no_model_or_generator_library(path: Path):
    banned = r"(timm|diffusers)\b" if path == HUB_CLIENT else r"(timm|diffusers|huggingface_hub)\b"
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        assert not any(re.match(banned, n or "") for n in names)


def test_the_core_names_no_concrete_data_set_model_or_generator():
    pattern = re.compile(r"\b(TimmFactory|timm_name|pretrained_tag|DDPM|Raabin|NIH|Uninfected"
                         r"|esophil_|ddpm_)\b")
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if pattern.search(code) and not code.strip().startswith(('"', "'")):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_production_code_never_resets_the_plugin_host():
    calls = [f"{p.relative_to(ROOT)}" for p in sorted([*CORE.rglob("*.py"), *PLUGINS.rglob("*.py")])
             if p.name != "host.py" and re.search(r"\breset\(\)", p.read_text(encoding="utf-8"))]
    assert calls == []


@pytest.mark.parametrize("path", sorted([*PLUGINS.rglob("*.py"), *EXAMPLES.rglob("*.py")]),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_first_party_plugins_use_only_the_contract_and_the_kit(path: Path):
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name == "bench" or name.startswith("bench."):
                assert name in PUBLIC, f"{path.relative_to(ROOT)} imports {name}"


def test_the_core_spells_no_plugin_command_or_generator():
    """`generate train-ddpm`, its help and the default generators come with the plugins.

    Strings count too: the default cells generator is the one whose spec says ``default=True``.
    """
    pattern = re.compile(r"\bddpm\b|train-ddpm|\bprocedural\b", re.IGNORECASE)
    offenders = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                 for path in sorted(CORE.rglob("*.py"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []
