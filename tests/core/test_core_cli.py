"""The CLI shell: help, cheap discovery, --json twins, and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fixtures.cli import invoke

HEAVY = ("torch", "timm", "diffusers")


def test_help_lists_every_command_family():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("plugins", "datasets", "models", "generators", "generate", "run", "runs",
                    "leaderboard", "demo"):
        assert f"  {command} " in result.output


@pytest.mark.parametrize("argv", [["--help"], ["plugins"], ["plugins", "--json"]])
def test_discovery_never_imports_heavy_libraries(argv):
    code = (
        "import sys\nfrom bench.cli import cli\n"
        f"try:\n    cli({argv!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"}, check=True).stdout
    assert "HEAVY []" in out


@pytest.mark.parametrize("group", ["models", "datasets", "generators"])
def test_every_listing_has_a_json_twin(group):
    result = invoke(group, "list", "--json")
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.output), list)


def test_unwritable_data_home_is_one_clear_message(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BENCH_HOME", str(blocker / "home"))
    assert invoke("runs", "list").exit_code == 0  # reading writes nothing
    result = invoke("run", "--model", "m", "--source", "s")
    assert result.exit_code == 1
    assert "is not writable" in result.output and "BENCH_HOME" in result.output
    assert "Traceback" not in result.output
