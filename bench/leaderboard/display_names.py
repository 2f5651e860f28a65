"""Display names and ordering of models and data sets, from the registries when they know them.

Results outlive plugins: a score whose model is no longer registered still renders, under its
stored name. Rows and columns follow the paper's order where a name matches one of its
entries, then the alphabetical order of their labels, so our boards line up with Table 2.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bench.registry import Registries, Registry

Kind = Literal["model", "dataset"]


def loose_key(name: str) -> str:
    """Key names loosely, so that "ResNet-152", "resnet152" and "resnet_152" meet."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class Names:
    """Labels, canonical names and order for one rendering."""

    def __init__(
        self,
        registries: Registries | None,
        *,
        paper_order: Mapping[Kind, Sequence[str]] | None = None,
        labels: Mapping[str, str] | None = None,
    ):
        self._registries = registries
        self._labels = dict(labels or {})  # canonical name -> label, overriding the registries
        self._cache: dict[tuple[Kind, str], str] = {}
        self._order: dict[Kind, dict[str, int]] = {"model": {}, "dataset": {}}
        for kind, printed in (paper_order or {}).items():
            for position, name in enumerate(printed):
                self._order[kind].setdefault(loose_key(name), position)
                self._order[kind].setdefault(loose_key(self.canonical(kind, name)), position)

    @classmethod
    def from_registries(cls) -> Names:
        """Build names backed by the process-wide registries, ordered like the paper."""
        from bench.host import get_registries
        from bench.leaderboard.reference import paper_order

        return cls(get_registries(), paper_order=paper_order())

    def with_labels(self, labels: Mapping[str, str]) -> Names:
        """Copy these names, rendering the given ones with the given labels (as published)."""
        other = copy.copy(self)
        other._labels = {**self._labels, **labels}
        other._cache = {}
        return other

    def _registry(self, kind: Kind) -> Registry | None:
        if self._registries is None:
            return None
        return self._registries.models if kind == "model" else self._registries.datasets

    def _spec(self, kind: Kind, name: str):  # noqa: ANN202 - a ModelSpec or a DatasetSpec
        registry = self._registry(kind)
        if registry is None:
            return None
        try:
            return registry.get(name)
        except Exception:  # noqa: BLE001 - unknown, clashing or a family that cannot resolve it
            return None

    def dataset_kind(self, name: str) -> str | None:
        """A registered data set's kind (benchmark, generated, user); None when unknown."""
        spec = self._spec("dataset", name)
        return getattr(spec, "kind", None)

    def synthetic(self, name: str) -> bool | None:
        """Whether a registered data set is synthetic (generated sets are); None when unknown."""
        spec = self._spec("dataset", name)
        if spec is None:
            return None
        return bool(getattr(spec, "synthetic", False)) or getattr(spec, "kind", "") == "generated"

    def pretraining(self, model: str) -> tuple[str, ...] | str | None:
        """What a registered model declares it was pretrained on; None when unknown."""
        return getattr(self._spec("model", model), "pretraining_data", None)

    def dataset_keys(self, name: str) -> set[str]:
        """Every name a data set answers to (bench.pretraining); its own alone when unknown."""
        from bench.pretraining import dataset_keys, normalise

        spec = self._spec("dataset", name)
        return dataset_keys(spec) if spec is not None else {normalise(name)}

    def label(self, kind: Kind, name: str) -> str:
        """Return the display name: the spec's ``display_name``, else the stored name."""
        key = (kind, name)
        if key not in self._cache:
            spec = self._spec(kind, name)
            self._cache[key] = self._labels.get(name) or (spec.label if spec else name)
        return self._cache[key]

    def canonical(self, kind: Kind, printed: str) -> str:
        """Return the registry name of a printed name or alias ("VGG-19"), else it unchanged."""
        spec = self._spec(kind, printed)
        return spec.name if spec is not None else printed

    def order(self, kind: Kind, names: Iterable[str]) -> list[str]:
        """Sort in paper order first, then by label, then by name (for equal labels)."""
        positions = self._order[kind]

        def sort_key(name: str) -> tuple[int, int, str, str]:
            position = positions.get(loose_key(name))
            if position is None:
                return (1, 0, self.label(kind, name).lower(), name)
            return (0, position, "", name)

        return sorted(set(names), key=sort_key)
