"""What a model was pretrained on, and which of the benchmark's data sets that covers.

A model spec declares ``pretraining_data``: data-set names (a tuple), free text (a str: shown,
never matched), ``()`` for nothing, or ``None`` for unknown. A score is *contaminated* when the
model started from its pretrained weights and their data cover the cell's source or target: the
model may have seen those very images before bench trained it (DinoBloom was trained, without
labels, on PBC's). Boards mark such cells; nothing here changes a score.

A declared name covers a data set when it equals one of the set's names (its name, display
name, aliases or group, compared without case or punctuation) or is a hyphenated prefix of one:
``raabin-wbc`` covers ``raabin`` (alias ``raabin-wbc``) and ``raabin-cropped`` (alias
``raabin-wbc-cropped``), two cuts of the same release.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from bench.weights import PRETRAINED

Pretraining = tuple[str, ...] | str | None
SHIFT_SEPARATOR = "~"  # a shifted test set, ``pbc~stain:3``, holds PBC's images


def normalise(name: str) -> str:
    """``"Raabin-WBC"``, ``"raabin_wbc"`` and ``"Raabin WBC"`` all read ``raabin-wbc``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def dataset_keys(spec: object) -> set[str]:
    """Every name a data set spec answers to, normalised (name, display name, aliases, group)."""
    names = [getattr(spec, "name", ""), getattr(spec, "display_name", ""),
             *getattr(spec, "aliases", ()), getattr(spec, "group", "")]
    return {normalise(name) for name in names if name}


def covers(declared: str, keys: Iterable[str]) -> bool:
    """Whether a declared pretraining name names one of these data-set keys (or a cut of it)."""
    wanted = normalise(declared)
    return bool(wanted) and any(key == wanted or key.startswith(f"{wanted}-") for key in keys)


def base_dataset(name: str) -> str:
    """The data set whose images a (possibly shifted) target holds."""
    return name.partition(SHIFT_SEPARATOR)[0]


def seen_in_cell(pretraining: Pretraining, init: str, source: str, target: str,
                 keys_of: Callable[[str], set[str]]) -> tuple[str, ...]:
    """The cell's data sets (source, then target) that the model's pretraining covers.

    Empty unless the model started from its own pretrained weights (``init`` pretrained): a
    model trained from scratch or from a user's file saw nothing bench can name.
    """
    if init != PRETRAINED or not isinstance(pretraining, tuple):
        return ()
    seen = []
    for dataset in dict.fromkeys([base_dataset(source), base_dataset(target)]):
        if any(covers(declared, keys_of(dataset)) for declared in pretraining):
            seen.append(dataset)
    return tuple(seen)


def describe(pretraining: Pretraining) -> str:
    """The words a listing uses: the names, the free text, ``nothing`` or ``unknown``."""
    if pretraining is None:
        return "unknown"
    if isinstance(pretraining, str):
        return pretraining
    return ", ".join(pretraining) if pretraining else "nothing (random initialisation)"


def as_json(pretraining: Pretraining) -> list[str] | str | None:
    """A JSON value: a list of names, the free text, or null for unknown."""
    return list(pretraining) if isinstance(pretraining, tuple) else pretraining
