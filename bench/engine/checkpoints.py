"""What a cell keeps: checkpoints written whole, read back without unpickling, finite numbers.

A full disk is a clear error instead of a torn file; a diverged model fails its cell instead of
reaching a board.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from pickle import UnpicklingError
from typing import Any

import numpy as np
import torch

from bench.errors import RunError


def save_atomically(state: dict[str, Any], path: Path) -> None:
    """Write ``path`` whole or not at all; a full disk is a clear error, not a torn file."""
    partial = path.with_suffix(".partial")
    try:
        torch.save(state, partial)
        os.replace(partial, path)
    except (OSError, RuntimeError) as exc:
        partial.unlink(missing_ok=True)
        # torch reports a failed write as RuntimeError ("enforce fail at inline_container"),
        # without the errno: a disk with less free space than the checkpoint is the cause.
        needed = path.stat().st_size if path.is_file() else 1 << 20
        full = getattr(exc, "errno", None) == errno.ENOSPC or (
            shutil.disk_usage(path.parent).free < needed)
        if full:
            raise RunError(
                f"no space left on {_mount_point(path.parent)} (writing {path}): the partial "
                f"checkpoint was removed. Free some space, then give the same command with "
                f"--retry-failed to resume from the last complete epoch."
            ) from exc
        raise RunError(f"cannot write checkpoint {path}: {type(exc).__name__}: {exc}") from exc


def _mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path) and path.parent != path:
        path = path.parent
    return path


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """A checkpoint bench wrote: tensors and plain containers, never an unpickled object."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except (UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        text = str(exc).strip().splitlines()
        raise RunError(
            f"{path} is not a checkpoint bench can read ({type(exc).__name__}: "
            f"{text[0] if text else 'empty'}); bench loads only tensors and never unpickles "
            f"objects. Delete {path.parent} to train this cell again."
        ) from exc


def check_finite(what: str, values: np.ndarray | float, epoch: int | None = None) -> None:
    """Refuse NaN or infinity: a diverged model must fail its cell, not reach a board."""
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        where = f" at epoch {epoch}" if epoch is not None else ""
        raise RunError(
            f"the {what} {'is' if array.size == 1 else f'has {bad} of {array.size} values'} "
            f"not finite (NaN or infinity){where}: the model diverged and the cell is stopped "
            f"(try a lower learning rate in the protocol)"
        )
