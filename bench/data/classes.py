"""Mapping a publisher's class names onto the canonical L, M, N, E, B (or dropping them).

Names are compared after normalisation (lower case, letters and digits only), and a trailing
plural "s" is forgiven, so ``Lymphocytes``, ``lymphocyte`` and ``LYMPHOCYTE`` are one class.
A class the map does not name is an error, never a silent drop: the plugin (or the user's
mapping file) must say ``None`` to drop it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bench.errors import DataError
from bench.labels import CLASSES

# Spellings seen in public WBC data sets, for plugins whose layout is not fixed by the publisher.
WBC_NAME_ALIASES: dict[str, tuple[str, ...]] = {
    "L": ("lymphocyte", "lymph", "lympho", "lym", "lyt", "ly"),
    "M": ("monocyte", "mono", "mon", "mo"),
    "N": ("neutrophil", "neutro", "neut", "neu", "ne", "segmentedneutrophil", "neutrophilseg"),
    "E": ("eosinophil", "esophil", "eosino", "eos", "eo"),
    "B": ("basophil", "baso", "bas", "ba"),
}


def normalise_class_name(name: str) -> str:
    """Reduce a class name to its comparison key: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def wbc_class_map(**extra: str | None) -> dict[str, str | None]:
    """Map common WBC spellings onto canonical letters, plus ``extra`` entries.

    Example: ``wbc_class_map(platelet=None)`` also accepts a ``platelet`` folder and drops it.
    """
    mapping: dict[str, str | None] = {
        alias: letter for letter, aliases in WBC_NAME_ALIASES.items() for alias in aliases
    }
    mapping.update(extra)
    return mapping


class ClassMapper:
    """Looks up source class names in a spec's ``class_map``, tolerant of case and plurals."""

    def __init__(self, class_map: Mapping[str, str | None]):
        self._map: dict[str, str | None] = {}
        for name, label in class_map.items():
            if label is not None and label not in CLASSES:
                raise DataError(
                    f"class map entry {name!r} -> {label!r}: the label must be one of "
                    f"{', '.join(CLASSES)}, or None to drop the class"
                )
            self._map[normalise_class_name(name)] = label
        self.known = sorted(class_map)

    def _key(self, source_class: str) -> str | None:
        key = normalise_class_name(source_class)
        if key in self._map:
            return key
        if key.endswith("s") and key[:-1] in self._map:
            return key[:-1]
        return None

    def knows(self, source_class: str) -> bool:
        return self._key(source_class) is not None

    def label(self, source_class: str) -> str | None:
        """Return the canonical letter for a source class, or None when the map drops it."""
        key = self._key(source_class)
        if key is None:
            raise DataError(f"class {source_class!r} is not in the class map")
        return self._map[key]

    def check(self, source_classes: Iterable[str], *, how_to_fix: str = "") -> None:
        """Raise one DataError listing every class the map does not name."""
        unknown = sorted({c for c in source_classes if not self.knows(c)})
        if unknown:
            raise DataError(
                f"found class folder(s) this data set does not know: {', '.join(unknown)}. "
                f"Known classes: {', '.join(self.known)}. "
                + (how_to_fix or "Check that --from points at the right download.")
            )
