"""Fixtures: a small results store, and names that do not depend on first-party plugins."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from leaderboard_fixtures import STANDARD, write_results

import bench
from bench.leaderboard import Names


@pytest.fixture(scope="session")
def standard_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Written once per session (a second or so of SQLite commits), copied for each test."""
    path = tmp_path_factory.mktemp("standard") / "results.sqlite"
    write_results(bench.open_store(path), STANDARD)
    return path


@pytest.fixture
def store_path(standard_store: Path, tmp_path: Path, no_plugins: None) -> Path:
    path = tmp_path / "results.sqlite"
    shutil.copyfile(standard_store, path)
    return path


@pytest.fixture
def scores(store_path: Path):
    return bench.open_store(store_path).scores()


@pytest.fixture
def names(no_plugins: None) -> Names:
    return Names.from_registries()


@pytest.fixture(scope="session")
def predicted_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from prediction_fixtures import TWO_BY_TWO, write_predicted

    path = tmp_path_factory.mktemp("predicted") / "results.sqlite"
    write_predicted(bench.open_store(path), TWO_BY_TWO)
    return path


@pytest.fixture
def predicted_store(predicted_store_file: Path, tmp_path: Path, no_plugins: None) -> Path:
    """Two models x two sources x two targets with stored test predictions (200 images)."""
    path = tmp_path / "predicted.sqlite"
    shutil.copyfile(predicted_store_file, path)
    return path


@pytest.fixture(scope="session")
def submitted_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from submission_fixtures import TWO_BY_TWO, write_submitted

    path = tmp_path_factory.mktemp("submitted") / "results.sqlite"
    write_submitted(bench.open_store(path), TWO_BY_TWO)
    return path


@pytest.fixture
def submitted_store(submitted_store_file: Path, tmp_path: Path, no_plugins: None) -> Path:
    """Two models x two WBC-USID sources x three targets (one shifted), 1,000 test images each,
    under the real `quick` protocol with the published fingerprints."""
    path = tmp_path / "submitted.sqlite"
    shutil.copyfile(submitted_store_file, path)
    return path
