"""`bench site build`: gather the content, then write every page, in a fixed order.

The folder is replaced as a whole (written beside it, then swapped in), so a failed build never
leaves half a site, and files of an earlier build never linger.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.site.board_page import write_board
from bench.site.cell_page import write_cell
from bench.site.content import collect
from bench.site.inputs import SiteInputs, SiteSettings
from bench.site.model_page import write_model
from bench.site.render import Writer, write_index, write_manifest, write_static

MARKER = "site.json"  # a folder holding it was written by this builder and may be replaced


@dataclass(frozen=True)
class BuildResult:
    path: Path
    boards: int
    models: int
    cells: int
    files: int
    bytes: int


def _check_target(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir())
                                              and not (out / MARKER).is_file())):
        raise BenchError(f"{out} exists and is not a site built by bench (no {MARKER}); "
                         "give an empty or new folder, or a site folder to rebuild.")


def build_site(out: str | Path, inputs: SiteInputs, settings: SiteSettings | None = None, *,
               progress: Callable[[str, int, int], None] | None = None) -> BuildResult:
    """Write the site for ``inputs`` into ``out`` (replacing an earlier build there)."""
    out = Path(out)
    settings = settings or SiteSettings()
    _check_target(out)
    content = collect(inputs, settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        writer = Writer(staging, content)
        write_static(staging)
        steps: list[tuple[str, Callable[[], None]]] = []
        steps += [("boards", lambda b=board: write_board(writer, b)) for board in content.boards]
        steps += [("models", lambda m=model: write_model(writer, m)) for model in content.models]
        sources: dict = {}
        steps += [("cells", lambda p=page: write_cell(writer, p, sources))
                  for _, page in sorted(content.cells.items())]
        steps.append(("index", lambda: write_index(writer)))
        for done, (label, step) in enumerate(steps):
            step()
            if progress:
                progress(label, done + 1, len(steps))
        write_manifest(writer)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = [p for p in out.rglob("*") if p.is_file()]
    return BuildResult(out, len(content.boards), len(content.models), len(content.cells),
                       len(files), sum(p.stat().st_size for p in files))


def _swap(staging: Path, out: Path) -> None:
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the site from a web server
    old = out.with_name(f".{out.name}-old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    if old.exists():
        shutil.rmtree(old)
