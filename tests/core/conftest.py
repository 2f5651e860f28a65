"""Fixtures that install fake distributions, so entry-point discovery is tested for real."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def install_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Put a minimal distribution (dist-info + modules) on sys.path, as pip would install it.

    ``install_distribution("acme-bench", {"acme": "acme_plugin"}, {"acme_plugin": "code"})``
    """

    def install(name: str, entry_points: dict[str, str], modules: dict[str, str]) -> Path:
        site = tmp_path / f"site-{name}"
        info = site / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = ["[bench]"] + [f"{key} = {value}" for key, value in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, code in modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(code))
        monkeypatch.syspath_prepend(str(site))
        for module in modules:
            sys.modules.pop(module, None)
        return site

    return install
