"""What a long job will cost before it starts: time from a measured step, disk from its state.

Generic: `bench run --dry-run` times a training step of each model, a generator plugin times
one step of its own training; both size checkpoints from the tensors they would save.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

LONG_JOB_SECONDS = 3600.0  # a job longer than this on a CPU is worth a warning before it starts


def time_steps(step: Callable[[], Any], *, repeats: int = 2, warmup: int = 1,
               slow: float = 10.0) -> float:
    """Seconds per call of ``step``: the mean of ``repeats`` calls after ``warmup`` ones.

    A first call slower than ``slow`` seconds is the answer itself (a second look would not
    change the estimate, only make it slower to get). On a GPU the device is synchronised
    around the timed calls, so queued work is counted.
    """
    import torch

    def synchronise() -> None:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()

    started = time.perf_counter()
    step()
    synchronise()
    first = time.perf_counter() - started
    if first >= slow or (repeats <= 1 and warmup < 1):
        return first
    for _ in range(warmup - 1):
        step()
    synchronise()
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    synchronise()
    return (time.perf_counter() - started) / max(repeats, 1)


def tensor_bytes(state: Any) -> int:
    """Bytes of every tensor in a (nested) state dict: what ``torch.save`` writes, about."""
    import torch

    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, Mapping):
        return sum(tensor_bytes(value) for value in state.values())
    if isinstance(state, (list, tuple)):
        return sum(tensor_bytes(value) for value in state)
    return 0


def human_bytes(count: float) -> str:
    """1.6 GB, 512.0 kB: decimal units, as disks are sold and `df -H` prints them."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


def human_duration(seconds: float) -> str:
    """3 d 4 h, 2 h 05 min, 4 min 10 s, 0.8 s."""
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s"


def long_job_warning(seconds: float, device: str, what: str, fix: str) -> str | None:
    """The warning a job estimated to run longer than an hour on a CPU prints before it starts."""
    if not str(device).startswith("cpu") or seconds <= LONG_JOB_SECONDS:
        return None
    return (f"long job: {what} is estimated to take about {human_duration(seconds)} on this CPU "
            f"(from a step measured here). {fix} Interrupted work resumes from its last "
            f"checkpoint.")
