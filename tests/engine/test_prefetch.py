"""The prefetch thread: same batches and draws as in line, errors surface, it always stops."""

from __future__ import annotations

import threading

import pytest
import torch

from bench.engine.loading import Prefetcher


def _seeded_prepare(generator: torch.Generator):
    return lambda batch: batch + torch.rand(3, generator=generator)


def test_batches_come_in_order_with_the_draws_made_in_line():
    batches = [torch.full((3,), float(i)) for i in range(7)]
    in_line = _seeded_prepare(torch.Generator().manual_seed(5))
    inline = [in_line(b) for b in batches]
    with Prefetcher(batches, _seeded_prepare(torch.Generator().manual_seed(5)), depth=3) as got:
        prefetched = list(got)
    assert len(prefetched) == len(inline)
    for a, b in zip(prefetched, inline):
        assert torch.equal(a, b)


def test_the_consumers_wait_for_batches_is_counted():
    import time

    def slow(value: int) -> int:
        time.sleep(0.02)
        return value

    prefetcher = Prefetcher(range(3), slow)
    assert list(prefetcher) == [0, 1, 2]
    assert prefetcher.waited > 0  # the first batch cannot be ready before it is made


def test_an_error_in_the_thread_is_raised_in_the_consumer_after_the_good_batches():
    def prepare(value: int) -> int:
        if value == 3:
            raise ValueError("batch 3 is broken")
        return value * 10

    seen = []
    with pytest.raises(ValueError, match="batch 3 is broken"):
        for value in Prefetcher(range(6), prepare):
            seen.append(value)
    assert seen == [0, 10, 20]


def test_a_consumer_that_stops_early_stops_the_thread():
    prefetcher = Prefetcher(iter(range(1_000_000)), lambda x: x, depth=2)
    assert next(prefetcher) == 0
    prefetcher.close()
    assert not prefetcher._thread.is_alive()
    with pytest.raises(StopIteration):
        next(prefetcher)
    assert not any(t.name == "bench-prefetch" and t is prefetcher._thread
                   for t in threading.enumerate())


def test_the_thread_uses_one_torch_thread_and_leaves_the_callers_alone():
    before = torch.get_num_threads()
    inside = list(Prefetcher([0], lambda _: torch.get_num_threads()))
    assert inside == [1]
    assert torch.get_num_threads() == before
