"""Fixed, stratified train/val/test splits that come out byte-identical on every machine.

No random-number generator is involved (their streams differ across library versions): within
each class, images are grouped by content hash (identical files always share a split, so a
duplicate can never leak from train into test through our split) and the groups are ordered by
``sha256(seed : content hash)``. The first groups fill train, then val, then test, up to the
protocol's fractions. The order of the input (file-system listing order) never matters.

Policies (``DatasetSpec.split_policy``):
- ``stratified`` (real data sets): 60/20/20 of every class.
- ``official_test`` (synthetic data sets): the publisher's test partition is the test split;
  its train partition is split stratified into train and val (75/25).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.errors import DataError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SplitRule:
    """The protocol's split settings plus the data set's policy: recorded in prepared.json."""

    policy: str
    seed: int
    real: tuple[float, float, float]
    synthetic_val_fraction: float

    @classmethod
    def from_protocol(cls, splits: Any, policy: str) -> SplitRule:
        """Build from a protocol's ``splits`` section (``bench.load_protocol(...).splits``)."""
        if policy not in ("stratified", "official_test"):
            raise DataError(f"unknown split policy {policy!r} (stratified or official_test)")
        return cls(policy, int(splits.seed), tuple(float(f) for f in splits.real),
                   float(splits.synthetic_val_fraction))

    def as_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "seed": self.seed, "real": list(self.real),
                "synthetic_val_fraction": self.synthetic_val_fraction}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SplitRule:
        return cls(str(data["policy"]), int(data["seed"]), tuple(data["real"]),
                   float(data["synthetic_val_fraction"]))


@dataclass(frozen=True)
class SplitItem:
    relpath: str
    sha256: str
    label: str
    official_split: str | None = None


def _quotas(count: int, fractions: Sequence[float]) -> list[int]:
    """Images per split for one class; every split gets one when there are enough to go round."""
    # Round half up for val and test; train takes the remainder, so the quotas sum to count.
    quotas = [int(count * f + 0.5) for f in fractions[1:]]
    # A small class still gets one validation and one test image: early stopping and the
    # per-class test scores need every class in every split.
    if count >= len(fractions):
        quotas = [max(1, q) for q in quotas]
    return [count - sum(quotas), *quotas]


def _order_key(seed: int, sha256: str) -> str:
    return hashlib.sha256(f"{seed}:{sha256}".encode()).hexdigest()


def _allocate(items: list[SplitItem], names: Sequence[str], fractions: Sequence[float],
              seed: int) -> dict[str, str]:
    groups: dict[str, list[SplitItem]] = defaultdict(list)
    for item in items:
        groups[item.sha256].append(item)
    # Identical files form one group, so a duplicate can never sit on both sides of a split.
    ordered = sorted(groups, key=lambda sha: (_order_key(seed, sha), sha))
    bounds, total = [], 0
    for quota in _quotas(len(items), fractions):
        total += quota
        bounds.append(total)
    assigned: dict[str, str] = {}
    position = 0
    for sha in ordered:
        # A group may run past a bound; it stays whole and the next group opens the next split.
        split = next(name for name, bound in zip(names, bounds, strict=True)
                     if position < bound or bound == total)
        for item in groups[sha]:
            assigned[item.relpath] = split
        position += len(groups[sha])
    return assigned


def assign_splits(items: Sequence[SplitItem], rule: SplitRule) -> dict[str, str]:
    """Map each item's relpath to "train", "val" or "test" under ``rule``."""
    by_class: dict[str, list[SplitItem]] = defaultdict(list)
    assigned: dict[str, str] = {}
    for item in items:
        if rule.policy == "official_test":
            if item.official_split not in ("train", "test"):
                raise DataError(
                    f"{item.relpath}: the official_test split policy needs the publisher's "
                    f"train/test partition, but this image has none"
                )
            if item.official_split == "test":  # the publisher's test set is kept as it is
                assigned[item.relpath] = "test"
                continue
        by_class[item.label].append(item)
    if rule.policy == "official_test":
        names, fractions = ("train", "val"), (1 - rule.synthetic_val_fraction,
                                               rule.synthetic_val_fraction)
    else:
        names, fractions = SPLITS, rule.real
    for label in sorted(by_class):
        assigned.update(_allocate(by_class[label], names, fractions, rule.seed))
    return assigned
