"""What a job costs: before it starts (time from a measured step, disk from its state), and after.

Generic: `bench run --dry-run` times a training step of each model, a generator plugin times
one step of its own training; both size checkpoints from the tensors they would save. A
finished cell's ``cost_summary`` is what the boards' cost columns read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bench.provenance import peak_memory

if TYPE_CHECKING:
    import torch

    from bench.store import Evaluation

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


def cost_summary(history: list[dict[str, Any]], evaluations: list[Evaluation],
                 device: torch.device) -> dict[str, Any]:
    """What a cell cost: training and test throughput, time, peak memory (the cost columns).

    Training figures sum every epoch of the history, so a resumed cell counts the epochs that
    earlier processes trained too; the peak memory is this process's.
    """
    train_seconds = sum(entry.get("train_seconds", 0.0) for entry in history)
    train_images = sum(entry.get("train_seconds", 0.0) * entry.get("images_per_second", 0.0)
                       for entry in history)
    tested = {ev.target: {"images": sum(ev.support.values()), "seconds": round(ev.seconds, 3)}
              for ev in evaluations if ev.seconds is not None}
    test_images = sum(t["images"] for t in tested.values())
    test_seconds = sum(t["seconds"] for t in tested.values())
    validation_seconds = sum(entry.get("val_seconds", 0.0) for entry in history)
    return {
        "wall_seconds": round(train_seconds + validation_seconds + test_seconds, 3),
        "train_images_per_second": (round(train_images / train_seconds, 3)
                                    if train_seconds else None),
        "train_seconds": round(train_seconds, 3),
        "train_images": round(train_images),  # images trained on, every epoch together
        "eval_images_per_second": round(test_images / test_seconds, 3) if test_seconds else None,
        "evaluation": tested,
        "peak_memory": peak_memory(device),
    }
