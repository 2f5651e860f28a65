"""Model tests never touch the network, and see the example third-party plugin when it exists."""

from __future__ import annotations

import socket
import sys
from importlib import metadata
from pathlib import Path

import pytest

import bench

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bench-example-plugin"


@pytest.fixture(autouse=True)
def offline_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache, offline mode, and sockets that refuse to connect."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)

    def refuse(*args, **kwargs):
        raise OSError("a model test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return tmp_path / "hf" / "hub"


@pytest.fixture
def warm_hf_cache(offline_hub: Path):
    """Lay out a weights file as huggingface_hub stores a download: refs/main -> snapshot."""
    return lambda repo, state: _write_cache_entry(offline_hub, repo, state)


def _write_cache_entry(cache: Path, repo: str, state: dict) -> Path:
    from safetensors.torch import save_file

    revision = "0123456789abcdef0123456789abcdef01234567"
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(revision)
    snapshot = folder / "snapshots" / revision
    snapshot.mkdir(parents=True)
    path = snapshot / "model.safetensors"
    save_file({key: tensor.contiguous() for key, tensor in state.items()}, str(path))
    return path


@pytest.fixture
def example_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The example third-party package, discovered through its entry point as pip installs it."""
    if not (EXAMPLE / "bench_example" / "__init__.py").is_file():
        pytest.skip(f"the example plugin is not at {EXAMPLE}")
    try:
        metadata.distribution("bench-example-plugin")
    except metadata.PackageNotFoundError:
        site = tmp_path / "site-example"
        info = site / "bench_example_plugin-0.1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: bench-example-plugin\nVersion: 0.1.0\n"
        )
        (info / "entry_points.txt").write_text("[bench]\nexample = bench_example\n")
        monkeypatch.syspath_prepend(str(site))
        monkeypatch.syspath_prepend(str(EXAMPLE))
        for module in [m for m in sys.modules if m.split(".")[0] == "bench_example"]:
            monkeypatch.delitem(sys.modules, module)
    bench.reset()
    return "example"
