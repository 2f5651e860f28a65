"""The data home: where prepared data sets, checkpoints and results live.

Layout (``BENCH_HOME``, default ``$XDG_CACHE_HOME/bench`` or ``~/.cache/bench``)::

    results.sqlite            runs, scores, predictions (the results store)
    datasets/<name>/          manifest.csv, prepared.json, audit.json, cache/<size>px/images.npy
    downloads/                files fetched by `bench datasets download` (resumable .part files)
    generated/<name>/         data sets made by `bench generate dataset`
    generators/<name>/        trained generators (their checkpoints)
    runs/<run id>/            epoch checkpoints, best checkpoint, log (a probe: its head)
    embeddings/<key>/         a frozen backbone's embeddings of one split (bench.engine.embeddings)
    leaderboards/             rendered boards when no --out is given
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.errors import BenchError

HOME_ENV = "BENCH_HOME"


def data_home(create: bool = True) -> Path:
    """The data home, created and checked for writing on first use."""
    if os.environ.get(HOME_ENV):
        home = Path(os.environ[HOME_ENV]).expanduser()
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        home = cache / "bench"
    if create:
        try:
            home.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=home, prefix=".write-test-"):
                pass
        except OSError as exc:
            raise BenchError(
                f"the data home {home} is not writable ({exc.strerror or exc}). "
                f"Point {HOME_ENV} at a writable folder, e.g. `export {HOME_ENV}=$HOME/bench-data`."
            ) from exc
    return home


def subdir(*parts: str, create: bool = True) -> Path:
    """A folder inside the data home."""
    path = data_home(create=create).joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def store_path() -> Path:
    return data_home() / "results.sqlite"
