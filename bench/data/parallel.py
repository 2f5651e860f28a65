"""Decoding many files on every core, straight into a memory-mapped ``.npy`` file.

Workers write pixels into the shared ``.npy`` file themselves and send back only the small
:class:`ImageFacts`, so nothing large crosses a pipe, and at most a few chunks are in flight
at once: peak memory stays bounded whatever the data set's size.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np

from bench.console import progress_bar
from bench.data.decode import ImageFacts, decode_file

INLINE_BELOW = 96  # starting worker processes costs more than decoding this many small files
_open_targets: dict[str, tuple[int, int]] = {}  # path -> (file descriptor, data offset)


PR_SET_PDEATHSIG = 1  # prctl option: a signal the kernel sends when the parent dies
WATCH_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """Make this worker process end when ``parent`` does, even after a ``kill -9``.

    A pool initializer: a worker of a killed parent would otherwise live on for minutes,
    holding the parent's output and its staging files. On Linux the kernel sends SIGKILL at
    the parent's death (``PR_SET_PDEATHSIG``); everywhere, a thread watches the parent id.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _target(path: str) -> tuple[int, int]:
    if path not in _open_targets:
        _close_targets()  # one target at a time per worker
        offset = np.load(path, mmap_mode="r").offset  # where the .npy header ends
        _open_targets[path] = (os.open(path, os.O_WRONLY), offset)
    return _open_targets[path]


def _close_targets() -> None:
    for descriptor, _ in _open_targets.values():
        os.close(descriptor)
    _open_targets.clear()


def decode_chunk(target: str, size: int, chunk: Sequence[tuple[str, int]]) -> list[ImageFacts]:
    """Decode ``(path, row)`` pairs into rows of the ``.npy`` file ``target``.

    Rows are written with ``pwrite``, not through a memory map, so a worker's resident memory
    stays one image, however large the cache file grows.
    """
    descriptor, offset = _target(target)
    row_bytes = size * size * 3
    results = []
    for path, row in chunk:
        try:
            facts, pixels = decode_file(Path(path), size)
        except OSError as exc:  # vanished or unreadable since it was scanned
            error = f"{type(exc).__name__}: {exc}"
            facts, pixels = ImageFacts("", status="missing", error=error), None
        if pixels is not None:
            os.pwrite(descriptor, np.ascontiguousarray(pixels).data, offset + row * row_bytes)
        results.append(facts)
    return results


def decode_into(
    paths: Sequence[Path],
    target: Path,
    size: int,
    *,
    progress: bool = True,
    description: str = "Decoding",
    workers: int | None = None,
) -> list[ImageFacts]:
    """Decode ``paths[i]`` into row ``i`` of the ``.npy`` file ``target``; return facts in order.

    ``target`` must already exist with shape ``(len(paths), size, size, 3)`` (see
    ``bench.data.cache.create_images_file``). Rows of unusable files are left as zeros.
    """
    workers = max(1, workers or available_cores())
    tasks = [(str(path), row) for row, path in enumerate(paths)]
    facts: list[ImageFacts | None] = [None] * len(tasks)
    with progress_bar(progress) as bar:
        task_id = bar.add_task(description, total=len(tasks))
        if workers == 1 or len(tasks) < INLINE_BELOW:
            try:
                for start in range(0, len(tasks), 16):
                    chunk = tasks[start : start + 16]
                    facts[start : start + len(chunk)] = decode_chunk(str(target), size, chunk)
                    bar.advance(task_id, len(chunk))
            finally:
                _close_targets()
            return facts  # type: ignore[return-value]
        chunk_size = max(4, min(64, len(tasks) // (workers * 8)))
        chunks = [tasks[i : i + chunk_size] for i in range(0, len(tasks), chunk_size)]
        # spawn: a fresh interpreter per worker is safe whatever threads the parent runs.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            pending: dict[Future, int] = {}
            next_chunk = 0
            while next_chunk < len(chunks) or pending:
                while next_chunk < len(chunks) and len(pending) < 2 * workers:
                    future = pool.submit(decode_chunk, str(target), size, chunks[next_chunk])
                    pending[future] = next_chunk
                    next_chunk += 1
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    start = pending.pop(future) * chunk_size
                    results = future.result()
                    facts[start : start + len(results)] = results
                    bar.advance(task_id, len(results))
    return facts  # type: ignore[return-value]
