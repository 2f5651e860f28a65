"""Fixtures of the site's tests: a synthetic store, the site built from it once, the tiny world."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures.tiny_world import tiny_world  # noqa: F401 - a fixture, found by name
from site_fixtures import RUNS, write_runs

import bench


@pytest.fixture(scope="session")
def synthetic_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site-store") / "results.sqlite"
    write_runs(bench.open_store(path), RUNS)
    return path


@pytest.fixture
def synthetic_store(synthetic_store_file: Path, tmp_path: Path, no_plugins: None) -> Path:
    path = tmp_path / "results.sqlite"
    shutil.copyfile(synthetic_store_file, path)
    return path


@pytest.fixture(scope="session")
def built_site(synthetic_store_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic store's site, built once (read-only for the tests that use it)."""
    from bench.site import SiteSettings, build_site, load_inputs

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_DISABLE_PLUGINS", "datasets,models,generators")
        bench.reset()
        out = tmp_path_factory.mktemp("site") / "site"
        build_site(out, load_inputs(store_path=synthetic_store_file),
                   SiteSettings(resamples=200))
    bench.reset()
    return out
