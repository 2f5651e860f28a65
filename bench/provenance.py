"""Where a result came from: versions, git revision, host. Stored with every run."""

from __future__ import annotations

import functools
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("wbc-bench", "torch", "torchvision", "timm", "diffusers", "numpy", "scikit-learn")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The commit of the bench source tree, with ``+dirty`` when it has local changes."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{rev}+dirty" if dirty else rev


def collect() -> dict[str, object]:
    return {
        "versions": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "git_revision": git_revision(),
    }


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's marketing name (Linux's /proc/cpuinfo, else what platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description(device: object, *, amp: bool, channels_last: bool,
                       compile_mode: str = "none") -> dict[str, object]:
    """What a cell ran on and how (AMP, memory format, compile), for the cost columns.

    A time means little without the machine; ``compile_mode`` is ``"none"`` or
    ``"backend:mode"`` (training.compile_mode).
    """
    import os

    import torch

    kind = getattr(device, "type", str(device))
    described: dict[str, object] = {
        "device": kind,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "gpu": None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "amp": amp,
        "channels_last": channels_last,
        "memory_format": "channels_last" if channels_last else "contiguous",
        "compile": compile_mode,
    }
    if kind == "cuda":
        described["gpu"] = torch.cuda.get_device_name(device)
        described["cudnn_benchmark"] = bool(torch.backends.cudnn.benchmark)
    return described


def peak_memory(device: object) -> dict[str, object]:
    """The peak this process reached: CUDA's allocated bytes on a GPU, else the CPU's RSS."""
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        return {"bytes": int(torch.cuda.max_memory_allocated(device)), "kind": "cuda-allocated"}
    try:
        import resource
    except ImportError:  # Windows
        return {"bytes": None, "kind": "cpu-rss"}
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {"bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale,
            "kind": "cpu-rss"}
