"""The compositor: single cells in, a data set in the WBC-USID layout out.

For each split it draws a pool of cells from the split's partition (train: A, test: B), cuts
each out of its background, scales every class to its real size, and composes one image per
central WBC. Cell chunks and finished images are recorded as they are made, so an
interrupted build resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from bench_generators.masks import MaskSettings, equivalent_diameter, extract_cell
from bench_generators.placement import CompositorSettings, compose, make_settings, parse_level
from PIL import Image

import bench
from bench import CellGenerator
from bench.kit import ANNOTATIONS_FILE, CLASS_FOLDERS, RBC, SPLIT_PARTITIONS, die_with_parent

Progress = Callable[[str, int, int], None]
CHUNK = 64  # cells asked of a generator at once, and cached together
WORK = (".cells", ".progress")  # work folders removed when the data set is complete


@dataclass
class SplitPool:
    """The cells one split is composed from, already scaled to the output size."""

    central: list[np.ndarray]  # one per image, in image order
    labels: list[str]  # the central cells' labels
    rbc: list[np.ndarray]
    skipped: dict[str, int] = field(default_factory=dict)  # cells with no separable background


class Compositor:
    """Composes data sets; ``level`` is ``base``, ``complex`` or 0..5, the rest are parameters."""

    def __init__(self, level: str | float = "complex", **parameters: Any):
        self.settings: CompositorSettings = make_settings(level, **parameters)
        self.mask_settings = MaskSettings()

    def describe(self) -> dict[str, Any]:
        return self.settings.describe()

    def build(
        self,
        folder: Path,
        *,
        central: CellGenerator,
        background: CellGenerator,
        counts: dict[str, dict[str, int]],
        size: int,
        seed: int,
        workers: int | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Write ``{split}/{Class}/*.png`` and ``annotations.jsonl`` into ``folder``."""
        progress = progress or (lambda stage, done, total: None)
        workers = workers or min(4, os.cpu_count() or 1)
        summary: dict[str, Any] = {"per_class": counts, "cells_skipped": {},
                                   "placements_abandoned": {}, "added_cells": {}}
        for split_index, (split, partition) in enumerate(SPLIT_PARTITIONS.items()):
            draw = _Drawer(folder / ".cells" / split, partition, seed, size, self, progress,
                           f"cells {split}")
            pool = draw.pool(central, background, counts[split], workers)
            job = _SplitJob(folder, split, split_index, seed, size, self.settings, pool)
            records = job.run(workers, progress)
            summary["cells_skipped"][split] = pool.skipped
            summary["placements_abandoned"][split] = sum(r["abandoned"] for r in records)
            summary["added_cells"][split] = sum(len(r["added"]) for r in records)
        _finish(folder)
        return summary

    def images(
        self,
        cache: Path,
        *,
        central: CellGenerator,
        background: CellGenerator,
        counts: dict[str, int],
        size: int,
        seed: int,
        level: str | float | None = None,
    ) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        """The training split's images and annotations in memory, none written (to measure).

        ``level`` composes the same cells at another level with the other settings unchanged,
        as `build` with that level would: same central cells, backgrounds drawn anew.
        """
        settings = self.settings
        if level is not None:
            settings = dataclasses.replace(settings, level=parse_level(level))
        split, partition = next(iter(SPLIT_PARTITIONS.items()))
        draw = _Drawer(cache, partition, seed, size, self, lambda *_: None, f"cells {split}")
        pool = draw.pool(central, background, counts, 1)
        job = _SplitJob(cache, split, 0, seed, size, settings, pool)
        for index in range(len(pool.labels)):
            yield job.compose(index)


# -- cell pools -----------------------------------------------------------------------------


class _Drawer:
    """Draws cells for one split in cached chunks and cuts them out of their backgrounds."""

    def __init__(self, cache: Path, partition: str, seed: int, size: int,
                 compositor: Compositor, progress: Progress, stage: str):
        self.cache, self.partition, self.seed, self.size = cache, partition, seed, size
        self.settings, self.masks = compositor.settings, compositor.mask_settings
        self.progress, self.stage = progress, stage

    def pool(self, central: CellGenerator, background: CellGenerator,
             counts: dict[str, int], workers: int) -> SplitPool:
        images = sum(counts.values())
        rbc_needed = 0
        if self.settings.expected_added > 0 and self.settings.rbc_fraction > 0:
            rbc_needed = self.settings.rbc_pool or images
        total, done = images + rbc_needed, 0
        cells: dict[str, list[np.ndarray]] = {}
        skipped: dict[str, int] = {}
        wanted = [*((lab, central, n) for lab, n in counts.items()), (RBC, background, rbc_needed)]
        self._prefetch(wanted, workers)
        for label, generator, needed in wanted:
            cells[label], skipped[label] = [], 0
            for cell, ok in self._cut(generator, label, needed):
                if ok:
                    cells[label].append(cell)
                    done += 1
                    self.progress(self.stage, done, total)
                else:
                    skipped[label] += 1
            cells[label] = self._scale(label, cells[label])
        labels = [label for label, n in counts.items() for _ in range(n)]
        return SplitPool([cell for label in counts for cell in cells[label]], labels,
                         cells[RBC], skipped)

    def _cut(self, generator: CellGenerator, label: str, needed: int) -> Iterator[tuple]:
        """Yield (cell, usable) until ``needed`` cells were usable.

        Cells that cannot be cut out are skipped; a source where most cannot is refused early.
        """
        usable, drawn = 0, 0
        while usable < needed:
            if drawn >= 3 * needed + 32 or (drawn >= 32 and usable < drawn / 10):
                raise bench.DataError(
                    f"only {usable} of the {needed} {CLASS_FOLDERS[label]} cells needed could be "
                    f"cut out: {drawn - usable} of {drawn} drawn had no plain background to "
                    "separate them from. Use a cell source whose images show one cell on a "
                    "plain background."
                )
            # after skips, ask for more at once: as many more as were skipped so far
            count = min(CHUNK, needed - usable + (drawn - usable))
            for image in self._chunk(generator, label, drawn, count):
                drawn += 1
                cell = extract_cell(image, self.masks)
                yield cell, cell is not None
                usable += cell is not None
                if usable == needed:
                    return

    def _prefetch(self, wanted: list[tuple[str, CellGenerator, int]], workers: int) -> None:
        """Draw the chunks of cheap generators in parallel processes (the cut reads them)."""
        jobs = [(generator, label, start, min(CHUNK, needed - start))
                for label, generator, needed in wanted if getattr(generator, "parallel", False)
                for start in range(0, needed, CHUNK)
                if not self._path(label, start, min(CHUNK, needed - start)).is_file()]
        if workers <= 1 or len(jobs) < 2:
            return
        with ProcessPoolExecutor(workers, initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as executor:
            list(executor.map(_generate_chunk, *zip(*[
                (generator, label, self.partition, self.seed, start, count,
                 self._path(label, start, count)) for generator, label, start, count in jobs
            ], strict=True)))

    def _path(self, label: str, start: int, count: int) -> Path:
        return self.cache / label / f"{start:06d}-{count}.npz"

    def _chunk(self, generator: CellGenerator, label: str, start: int,
               count: int) -> list[np.ndarray]:
        path = self._path(label, start, count)
        if path.is_file():
            try:  # allow_pickle=False: a planted pickle is refused, and the chunk drawn again
                with np.load(path, allow_pickle=False) as saved:
                    return [saved[key] for key in sorted(saved.files)]
            except (OSError, ValueError, zipfile.BadZipFile):
                path.unlink()
        return _generate_chunk(generator, label, self.partition, self.seed, start, count, path)

    def _scale(self, label: str, cells: list[np.ndarray]) -> list[np.ndarray]:
        """Scale a class so its median cell has the class's real diameter at this image size.

        Per class and per source: sources differ in magnification, a class's spread of sizes
        within one source is kept.
        """
        if not cells:
            return cells
        target = self.settings.diameters[label] / self.settings.field_of_view * self.size
        factor = target / max(float(np.median([equivalent_diameter(c) for c in cells])), 1.0)
        return [_resize(cell, factor) for cell in cells]


def _generate_chunk(generator: CellGenerator, label: str, partition: str, seed: int, start: int,
                    count: int, path: Path) -> list[np.ndarray]:
    """Draw cells ``start .. start+count-1`` and cache them, so a resumed build skips them."""
    cells = generator.generate(label, count, partition=partition, seed=seed, start=start)
    if len(cells) != count:
        raise bench.PluginError(f"cell generator returned {len(cells)} cells, not {count}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp.npz")
    np.savez(temporary, **{f"{i:04d}": np.asarray(cell, np.uint8) for i, cell in enumerate(cells)})
    os.replace(temporary, path)
    return cells


def restain(rgba: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """The cell with its mean colour moved to ``colour``, by one gain per channel.

    A gain, not a shift, so the cell's own texture (the RBC's pale centre) keeps its contrast.
    """
    inside = rgba[..., 3] > 127
    if not inside.any():
        return rgba
    gain = np.asarray(colour, np.float32) / np.maximum(rgba[inside, :3].mean(0), 1.0)
    out = rgba.copy()
    out[..., :3] = np.clip(np.rint(rgba[..., :3] * gain), 0, 255).astype(np.uint8)
    return out


def _resize(rgba: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgba.shape[:2]
    shape = (max(1, round(w * factor)), max(1, round(h * factor)))
    # Premultiplied alpha, so the background colour of the source never bleeds into the edge.
    image = Image.fromarray(rgba, "RGBA").convert("RGBa").resize(shape, Image.Resampling.LANCZOS)
    return np.asarray(image.convert("RGBA"))


# -- composing one split ----------------------------------------------------------------------


@dataclass
class _SplitJob:
    folder: Path
    split: str
    split_index: int
    seed: int
    size: int
    settings: CompositorSettings
    pool: SplitPool

    def run(self, workers: int, progress: Progress) -> list[dict[str, Any]]:
        log = self.folder / ".progress" / f"{self.split}.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        done = {record["index"]: record for record in _read_log(log)
                if (self.folder / record["path"]).is_file()}
        todo = [i for i in range(len(self.pool.labels)) if i not in done]
        for label in set(self.pool.labels):
            (self.folder / self.split / CLASS_FOLDERS[label]).mkdir(parents=True, exist_ok=True)
        total = len(self.pool.labels)
        placed = sum(len(r["added"]) for r in done.values())
        abandoned = sum(r["abandoned"] for r in done.values())
        _drop_torn_tail(log)
        # One write() per whole line on an O_APPEND descriptor: a kill leaves at most a torn
        # last line, which the next resume cuts off before it appends.
        out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            for record in self._results(todo, workers):
                done[record["index"]] = record
                os.write(out, (json.dumps(record) + "\n").encode())
                progress(f"images {self.split}", len(done), total)
                placed, abandoned = placed + len(record["added"]), abandoned + record["abandoned"]
                self._check_budget(placed, abandoned)
        finally:
            os.close(out)
        return [done[i] for i in range(total)]

    def _results(self, todo: list[int], workers: int) -> Iterator[dict[str, Any]]:
        if workers <= 1 or len(todo) < 64:
            for index in todo:
                yield self.image(index)
            return
        chunks = [todo[i : i + 32] for i in range(0, len(todo), 32)]
        with ProcessPoolExecutor(workers, initializer=_set_job,
                                 initargs=(self, os.getpid())) as executor:
            for records in executor.map(_compose_chunk, chunks):
                yield from records

    def image(self, index: int) -> dict[str, Any]:
        """Compose, write and describe image ``index`` of the split (deterministic)."""
        image, annotation = self.compose(index)
        label = self.pool.labels[index]
        path = f"{self.split}/{CLASS_FOLDERS[label]}/smear_{index + 1:05d}.png"
        target = self.folder / path
        temporary = target.with_name(f".{target.name}.tmp")
        Image.fromarray(image).save(temporary, format="PNG")
        os.replace(temporary, target)
        return {"path": path, "split": self.split, "index": index, "label": label,
                "class": CLASS_FOLDERS[label], **annotation}

    def compose(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Image ``index`` of the split and its annotation, in memory (deterministic)."""
        s, pool = self.settings, self.pool
        level_key = int(round(s.level * 1000))
        base = (self.seed, self.split_index, index)
        placement = np.random.default_rng((*base, 2, level_key))
        count = 0
        if s.expected_added > 0:
            sd = s.added_cells_sd * s.level / 5
            count = max(0, int(round(placement.normal(s.expected_added, sd))))
        added = []
        for _ in range(count):
            if pool.rbc and placement.random() < s.rbc_fraction:
                added.append((RBC, pool.rbc[placement.integers(len(pool.rbc))]))
            elif len(pool.central) > 1:  # another image's central WBC, never this one's
                other = (index + 1 + placement.integers(len(pool.central) - 1)) % len(pool.central)
                added.append((pool.labels[other], pool.central[other]))
        # own streams, so the stain and the sizes leave every other draw of the image as it was
        restained = bool(np.random.default_rng((*base, 3)).random() < s.rbc_restain)
        sizes = np.random.default_rng((*base, 4))
        added = [(label, self._vary(cell, sizes, restained) if label == RBC else cell)
                 for label, cell in added]
        image, annotation = compose(
            pool.central[index], added, size=self.size, settings=s,
            layout_rng=np.random.default_rng((*base, 0)),
            background_rng=np.random.default_rng((*base, 1, level_key)),
            placement_rng=placement,
        )
        annotation["central"] = {"label": pool.labels[index], **annotation["central"]}
        annotation["rbc_restained"] = restained
        return image, annotation

    def _vary(self, cell: np.ndarray, rng: np.random.Generator, restained: bool) -> np.ndarray:
        """An RBC as this image shows it: its size varied, its stain the image's."""
        s = self.settings
        if s.rbc_size_sd > 0:
            cell = _resize(cell, float(np.exp(rng.normal(0, s.rbc_size_sd))))
        return restain(cell, s.rbc_restain_colour) if restained else cell

    def _check_budget(self, placed: int, abandoned: int) -> None:
        """Stop early when most placements fail: the settings cannot be met, say which."""
        attempted = placed + abandoned
        if attempted >= 20 and abandoned > attempted / 2:
            s = self.settings
            raise bench.DataError(
                f"impossible placement budget: {abandoned} of {attempted} added cells found no "
                f"position within max_tries={s.max_tries} at max_overlap={s.max_overlap:g}. "
                "Raise max_overlap or max_tries, or lower added_cells (--set NAME=VALUE)."
            )


_JOB: _SplitJob | None = None


def _set_job(job: _SplitJob, parent: int) -> None:
    global _JOB
    die_with_parent(parent)  # a killed generation leaves no workers behind
    _JOB = job


def _compose_chunk(indices: list[int]) -> list[dict[str, Any]]:
    assert _JOB is not None
    return [_JOB.image(index) for index in indices]


def _read_log(log: Path) -> list[dict[str, Any]]:
    """Every whole record of a progress log; a torn or garbled line is skipped, not an end."""
    records = []
    if log.is_file():
        for line in log.read_bytes().splitlines():
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(record, dict) and "index" in record and "path" in record:
                records.append(record)
    return records


def _drop_torn_tail(log: Path) -> None:
    """Cut a log back to its last complete line (what a kill mid-write leaves after it)."""
    if not log.is_file():
        return
    data = log.read_bytes()
    end = data.rfind(b"\n") + 1
    if end != len(data):
        os.truncate(log, end)


def _finish(folder: Path) -> None:
    """Gather the per-split logs into annotations.jsonl and remove the work files."""
    import shutil

    lines = []
    for split in SPLIT_PARTITIONS:
        records = {r["index"]: r for r in _read_log(folder / ".progress" / f"{split}.jsonl")}
        images = sum(1 for _ in (folder / split).glob("*/*.png"))
        if len(records) != images:  # never publish a data set with images nobody described
            raise bench.DataError(
                f"{folder / '.progress' / f'{split}.jsonl'} describes {len(records)} of the "
                f"{images} {split} images; give the same command again to redo the rest"
            )
        lines += [json.dumps(records[index]) + "\n" for index in sorted(records)]
    temporary = folder / f".{ANNOTATIONS_FILE}.tmp"
    temporary.write_text("".join(lines))
    os.replace(temporary, folder / ANNOTATIONS_FILE)
    for name in WORK:
        shutil.rmtree(folder / name, ignore_errors=True)
