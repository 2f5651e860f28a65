"""The example third-party package, installed by pip from its own folder, is discovered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.cli import invoke

import bench

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bench-example-plugin"


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the example plugin into a folder of its own (the test venv stays clean).

    From a copy: building in place would leave `build/` and `*.egg-info` in the checkout.
    """
    site = tmp_path_factory.mktemp("example-site")
    source = tmp_path_factory.mktemp("example-source") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(source)],
        check=True,
    )
    return site


@pytest.fixture
def example_installed(example_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(example_site))
    for module in [m for m in sys.modules if m.startswith("bench_example")]:
        monkeypatch.delitem(sys.modules, module)
    bench.reset()


def listing(*argv: str) -> list[dict]:
    result = invoke(*argv, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_example_plugin_shows_up_everywhere(example_installed):
    plugins = {row["plugin"]: row for row in listing("plugins")}
    assert plugins["example"]["distribution"] == "bench-example-plugin"
    assert plugins["example"]["registers"] == {"dataset": ["example-cells"],
                                               "model": ["example-cnn"]}
    assert "example-cnn" in [row["name"] for row in listing("models", "list")]
    assert "example-cells" in [row["name"] for row in listing("datasets", "list")]


def test_example_model_is_a_real_module_with_five_outputs(example_installed):
    import torch

    spec = bench.get_registries().models.get("tinycnn")
    module = spec.factory(5, False)
    assert isinstance(module, torch.nn.Module)
    assert module(torch.zeros(2, 3, spec.input_size, spec.input_size)).shape == (2, 5)


def test_the_example_plugins_own_tests_run_the_contract_checks(example_site: Path):
    """What a plugin author runs: pytest on the plugin's folder, with bench.testing inside."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(example_site), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(EXAMPLE / "tests")], capture_output=True, text=True, env=env, cwd=EXAMPLE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
