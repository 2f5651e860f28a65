"""From the decoded cache to batches: per-sample augmentation, balanced sampling, seeding.

Every epoch's randomness is a pure function of (seed, epoch), so a run resumed from an epoch
checkpoint draws exactly the batches and augmentations the uninterrupted run would have drawn.
:class:`Prefetcher` reads and augments the next batches in a thread while the model trains on
the current one, in order, so the draws are the same as when done in line.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, WeightedRandomSampler


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919) % (2**31)


class CachedImages(Dataset):
    """A split of the decoded cache (uint8 NHWC, usually memory-mapped) served in batches.

    Items stay uint8 until they reach the device, where :class:`BatchTransform` augments the
    whole batch at once; fetching a batch is one fancy-indexed read of the memory map.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.__getitems__([index])

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        order = np.asarray(indices)
        images = torch.from_numpy(np.ascontiguousarray(self.images[order]))  # a copy: writable
        return images.permute(0, 3, 1, 2), torch.from_numpy(self.labels[order])


def _batched(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch  # __getitems__ already returns a whole batch


def balanced_weights(labels: np.ndarray) -> torch.Tensor:
    """Inverse class frequency: every class is drawn equally often."""
    counts = np.bincount(labels)
    return torch.as_tensor(1.0 / counts[labels], dtype=torch.double)


def train_loader(
    dataset: CachedImages,
    *,
    batch_size: int,
    sampler: str,
    seed: int,
    epoch: int,
    workers: int,
    pin_memory: bool,
) -> DataLoader:
    generator = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    if sampler == "balanced":
        chosen = WeightedRandomSampler(
            balanced_weights(dataset.labels), len(dataset), replacement=True, generator=generator
        )
    else:
        chosen = RandomSampler(dataset, generator=generator)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=chosen,
        num_workers=workers,
        pin_memory=pin_memory,
        generator=generator,
        collate_fn=_batched,
        drop_last=len(dataset) > batch_size,  # a batch of one breaks batch norm
    )


def eval_loader(
    dataset: CachedImages, *, batch_size: int, workers: int, pin_memory: bool
) -> DataLoader:
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=workers, pin_memory=pin_memory,
        collate_fn=_batched,
    )


Item = TypeVar("Item")


class Prefetcher(Iterator[Any]):
    """Iterate ``batches`` in a background thread, ``prepare`` applied there, ``depth`` ahead.

    The model's step in the main thread and the next batch's cache read and augmentation here
    overlap (torch releases the GIL in its kernels). Batches are prepared one after another in
    their order, so a seeded ``prepare`` draws exactly what it would draw in line. The thread's
    torch ops use one CPU thread: the main thread's model keeps the cores it had, and the
    augmentation's arithmetic does not depend on the machine's core count. An exception in the
    thread is raised in the consumer; :meth:`close` (or leaving a ``with`` block) stops the
    thread, also when the consumer stops early. ``waited`` is how long the consumer waited for
    batches: the data time the overlap did not hide.
    """

    def __init__(self, batches: Iterable[Item], prepare: Callable[[Item], Any], depth: int = 2):
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, args=(batches, prepare),
                                        name="bench-prefetch", daemon=True)
        self._done = False
        self.waited = 0.0
        self._thread.start()

    def _fill(self, batches: Iterable[Item], prepare: Callable[[Item], Any]) -> None:
        torch.set_num_threads(1)  # thread-local under OpenMP, as in DataLoader's pin thread
        try:
            for batch in batches:
                if self._stop.is_set() or not self._put(("item", prepare(batch))):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the consumer, who raises it
            self._put(("error", exc))

    def _put(self, entry: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        started = time.perf_counter()
        kind, value = self._queue.get()
        self.waited += time.perf_counter() - started
        if kind == "item":
            return value
        self.close()
        if kind == "error":
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop the thread and drop what it prepared; safe to call more than once."""
        self._done = True
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
