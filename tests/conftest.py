"""Shared fixtures: every test gets its own data home and freshly discovered plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
WBC_USID = SHARED / "data" / "WBC-USID"


@pytest.fixture(autouse=True)
def bench_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data home per test; plugins and registries are discovered anew."""
    home = tmp_path_factory.mktemp("bench-home")
    monkeypatch.setenv("BENCH_HOME", str(home))
    monkeypatch.delenv("BENCH_DISABLE_PLUGINS", raising=False)
    bench.reset()
    yield home
    bench.reset()


@pytest.fixture
def wbc_usid() -> Path:
    """The official WBC-USID release laid beside the checkout (read-only); skip without it."""
    if not (WBC_USID / "dataset").is_dir():
        pytest.skip(f"the WBC-USID release is not at {WBC_USID}")
    return WBC_USID
