"""Prepared class counts against the published ones: a wrong download is named, not trusted.

A download prepares without error when its folders have the right names, whichever part of a
publisher's release it is. Its counts per class tell: the class shares of one release differ
from another's, and the size tells a whole download from a part or a partial extraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bench.labels import CLASSES
from bench.specs import DatasetSpec

SHARE_TOLERANCE = 0.05  # total variation distance between class shares
SIZE_TOLERANCE = 0.10  # relative difference in the number of images


@dataclass(frozen=True)
class PublishedCounts:
    dataset: str
    what: str  # "as the paper reports", "Train + TestA", "Train"
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def distance(self, counts: Mapping[str, int]) -> tuple[float, float]:
        """(difference in class shares, relative difference in size) from ``counts``."""
        total = sum(counts.values())
        if not total or not self.total:
            return 1.0, 1.0
        shares = sum(abs(counts.get(label, 0) / total - self.counts.get(label, 0) / self.total)
                     for label in CLASSES) / 2
        return shares, abs(total - self.total) / self.total

    def matches(self, counts: Mapping[str, int]) -> bool:
        shares, size = self.distance(counts)
        return shares <= SHARE_TOLERANCE and size <= SIZE_TOLERANCE


def published(spec: DatasetSpec) -> list[PublishedCounts]:
    """Every count a spec publishes: the paper's, the whole download's and each part's."""
    found = []
    if spec.paper_counts:
        found.append(PublishedCounts(spec.name, "as the paper reports", dict(spec.paper_counts)))
    parts = {name: dict(counts) for name, counts in (spec.published_counts or {}).items()}
    if parts:
        whole = {label: sum(part.get(label, 0) for part in parts.values()) for label in CLASSES}
        found.append(PublishedCounts(spec.name, " + ".join(parts), whole))
        if len(parts) > 1:
            found += [PublishedCounts(spec.name, name, part) for name, part in parts.items()]
    return found


def _listed(counts: Mapping[str, int]) -> str:
    shown = ", ".join(f"{label} {counts.get(label, 0):,}" for label in CLASSES)
    return f"{shown}: {sum(counts.values()):,} images"


def count_warning(spec: DatasetSpec, counts: Mapping[str, int],
                  others: Iterable[DatasetSpec]) -> str | None:
    """A warning when ``counts`` (per label) are far from every count ``spec`` publishes.

    It names the data set whose published counts have the closest class shares, when they are
    close: that is the download the user most likely passed.
    """
    own = published(spec)
    if not own or any(reference.matches(counts) for reference in own):
        return None
    message = (f"the prepared counts of {spec.label} ({_listed(counts)}) are far from the "
               f"published ones ({own[0].what}: {_listed(own[0].counts)}).")
    candidates = [reference for other in others if other.name != spec.name
                  for reference in published(other)]
    closest = min(candidates, key=lambda ref: (round(ref.distance(counts)[0], 2),
                                               ref.distance(counts)[1]), default=None)
    own_shares = min(reference.distance(counts)[0] for reference in own)
    if closest and closest.distance(counts)[0] <= SHARE_TOLERANCE < own_shares:
        return message + (
            f" Their class shares are those of the {closest.dataset} download ({closest.what}: "
            f"{_listed(closest.counts)}): prepare that as `bench datasets prepare "
            f"{closest.dataset} --from ...`, and give {spec.name} its own download "
            f"(`bench datasets list` says where to get it).")
    return message + (" An incomplete download or extraction, or another release? Check what "
                      "--from points at; `bench datasets show` lists the difference per class.")
