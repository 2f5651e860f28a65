"""Label efficiency: K training images per class, drawn the same way on every machine.

The draw is a pure function of the source's split fingerprint, the seed and K: within each class
the training images are ordered by ``sha256(fingerprint:seed:path)`` and the first K are kept.
No random generator is involved, so the subset never depends on the platform or library
versions, and the subsets of one seed are nested (the 1-shot images are among the 5-shot ones),
which makes a curve over K compare like with like. A class with fewer than K images keeps all
of them. ``training.shots`` is a protocol setting, so K is part of the protocol hash (the cell's
identity) and of every board's recipe line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from bench.errors import OptionError

ALL = "all"
MAX_SHOTS = 1_000_000
SHOTS_FORMS = "give a number of images per class (e.g. 5), `all`, or a comma list (1,5,all)"


def parse_shots(text: str | None) -> list[int | str]:
    """``"1,5,all"`` -> ``[1, 5, "all"]``; None -> ``[]`` (the protocol's own value)."""
    if text is None:
        return []
    values: list[int | str] = []
    for part in (p.strip().lower() for p in str(text).split(",")):
        if not part:
            continue
        if part == ALL:
            value: int | str = ALL
        else:
            try:
                value = int(part)
            except ValueError:
                raise OptionError(f"--shots {text!r}: {part!r} is not a number; "
                                  f"{SHOTS_FORMS}.") from None
            if not 1 <= value <= MAX_SHOTS:
                raise OptionError(f"--shots {value}: images per class must lie between 1 and "
                                  f"{MAX_SHOTS:,}; {SHOTS_FORMS}.")
        if value in values:
            raise OptionError(f"--shots {text}: {value} is listed twice; each runs once.")
        values.append(value)
    if not values:
        raise OptionError(f"--shots {text!r} lists nothing; {SHOTS_FORMS}.")
    return values


def few_shot_indices(paths: Sequence[str], labels: np.ndarray, fingerprint: str,
                     shots: int | str, seed: int) -> np.ndarray:
    """Rows of a training split to keep for ``shots`` images per class, in split order."""
    if shots == ALL:
        return np.arange(len(paths))
    keep: list[int] = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        ranked = sorted(rows, key=lambda row: hashlib.sha256(
            f"{fingerprint}:{seed}:{paths[row]}".encode()).digest())
        keep += ranked[: int(shots)]
    return np.array(sorted(keep), dtype=np.int64)


def describe_shots(shots: int | str) -> str:
    """``5 images per class`` or ``every training image``, for notices and boards."""
    return "every training image" if shots == ALL else (
        f"{shots} image{'s' if shots != 1 else ''} per class")


_IN_OVERRIDES = re.compile(r"(?:^|, )training\.shots=(\d+)")


def shots_of(overrides: str) -> int | str:
    """K from a cell's or board's recipe line (``training.shots=5, ...``); ``all`` without one."""
    found = _IN_OVERRIDES.search(overrides or "")
    return int(found[1]) if found else ALL


def without_shots(overrides: str) -> str:
    """The recipe line less its ``training.shots`` term: what cells of one curve share."""
    return ", ".join(part for part in (overrides or "").split(", ")
                     if not part.startswith("training.shots="))
