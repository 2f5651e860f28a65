"""A shift suite: which shifts exist, what each applies, and its parameters at each severity.

Like a protocol it is a versioned TOML file (``bench/shifts/v2.toml``) whose hash covers every
value that changes a pixel (not the descriptions), so a shifted test set made under changed
parameters gets another fingerprint and its scores never meet the old ones. What each shift
does is a row of :data:`bench.shifts.perturbations.PERTURBATIONS`.

New evaluations use :data:`DEFAULT_VERSION`; ``BENCH_SHIFT_SUITE=v1`` picks another built-in
suite for every command (boards recognise every built-in suite by the fingerprints anyway).
Settings added after v1 (``resolution``, ``perturbation``) enter the hash only when they differ
from v1's behaviour, so v1's hash, and every fingerprint made under it, never moves.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from bench.errors import OptionError, ProtocolError, UnknownNameError
from bench.shifts.context import ShiftContext
from bench.shifts.perturbations import PERTURBATIONS, Perturbation
from bench.tomlfile import parse_toml

SEVERITIES = (1, 2, 3, 4, 5)
DEFAULT_VERSION = "v2"
ENVIRONMENT = "BENCH_SHIFT_SUITE"  # picks the suite of every command: v1 for old boards
# Where a shift is applied: "native", the image as published, before any resize (v2); or
# "cache", the decoded cache image, lengths scaled from reference_size (v1).
RESOLUTIONS = ("native", "cache")


@dataclass(frozen=True)
class ShiftSuite:
    """The shifts of one definition file, each with its parameters per severity."""

    name: str
    version: str
    reference_size: int | None  # the side pixel lengths refer to ("cache" resolution only)
    levels: dict[str, tuple[dict[str, Any], ...]]
    descriptions: dict[str, str]
    resolution: str = "cache"
    perturbations: dict[str, str] = field(default_factory=dict)  # shift -> row, when not its name

    @property
    def shifts(self) -> list[str]:
        return list(self.levels)

    @property
    def native(self) -> bool:
        """Whether shifts apply to the image as published, before it is resized."""
        return self.resolution == "native"

    @functools.cached_property
    def hash(self) -> str:
        """sha256 of every value that changes a pixel, first 16 hex digits (like protocols)."""
        recipe: dict[str, Any] = {"reference_size": self.reference_size, "levels": self.levels}
        if self.resolution != "cache":
            recipe["resolution"] = self.resolution
        if self.perturbations:
            recipe["perturbations"] = self.perturbations
        canonical = json.dumps(recipe, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def title(self) -> str:
        return f"{self.name} v{self.version} ({self.hash})"

    def check_shift(self, shift: str) -> str:
        if shift not in self.levels:
            raise UnknownNameError("shift", shift, self.shifts)
        return shift

    def perturbation(self, shift: str) -> Perturbation:
        """The row of the perturbation table that ``shift`` applies."""
        shift = self.check_shift(shift)
        return PERTURBATIONS[self.perturbations.get(shift, shift)]

    def level(self, shift: str, text: str) -> str:
        """The canonical spelling of a severity (``3``), or of a free parameter (``0.5``)."""
        free_parameter = self.perturbation(shift).free_parameter
        text = text.strip()
        if text.isdigit() and int(text) in SEVERITIES:
            return str(int(text))
        if free_parameter:
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if 0 < value < 1:
                return repr(value)
        free = (f", or a {free_parameter} between 0 and 1 ({shift}:0.5)"
                if free_parameter else "")
        raise OptionError(f"--target ...~{shift}:{text}: a severity is a whole number from "
                          f"{SEVERITIES[0]} to {SEVERITIES[-1]}{free}.")

    def parameters(self, shift: str, level: str) -> dict[str, Any]:
        """The parameters of ``shift`` at a canonical ``level`` (see :meth:`level`)."""
        level = self.level(shift, level)
        if level.isdigit():
            return dict(self.levels[shift][int(level) - 1])
        return {str(self.perturbation(shift).free_parameter): float(level)}

    def context(self, shift: str, level: str) -> ShiftContext:
        size = None if self.native else self.reference_size
        return ShiftContext(shift, self.level(shift, level), size)

    def apply(self, image: np.ndarray, shift: str, level: str) -> np.ndarray:
        """``image`` under ``shift`` at ``level`` (a severity, or scale's free factor)."""
        return self.perturbation(shift).apply(image, self.parameters(shift, level),
                                              self.context(shift, level))


def _parse(text: str, where: str) -> ShiftSuite:
    data = parse_toml(text, where, ProtocolError)
    head = data.pop("suite", None)
    if not isinstance(head, dict) or not {"name", "version"} <= set(head):
        raise ProtocolError(f"{where}: needs a [suite] table with name and version")
    resolution = str(head.get("resolution", "cache"))
    if resolution not in RESOLUTIONS:
        raise ProtocolError(f"{where}: resolution = {resolution!r}; expected one of "
                            f"{', '.join(RESOLUTIONS)}")
    if resolution == "cache" and "reference_size" not in head:
        raise ProtocolError(f"{where}: a suite applied to the cache needs reference_size (the "
                            "image side its pixel lengths refer to)")
    levels, descriptions, perturbations = {}, {}, {}
    for shift, table in data.items():
        table = table if isinstance(table, dict) else {}
        name = str(table.get("perturbation", shift))
        if name not in PERTURBATIONS:
            raise ProtocolError(f"{where}: [{shift}] names an unknown perturbation {name!r}; "
                                f"bench knows {', '.join(PERTURBATIONS)}")
        if name != shift:
            perturbations[shift] = name
        wanted = PERTURBATIONS[name].parameters
        rows = table.get("levels")
        if not isinstance(rows, list) or len(rows) != len(SEVERITIES):
            raise ProtocolError(f"{where}: [{shift}] needs levels = a list of "
                                f"{len(SEVERITIES)} tables, one per severity")
        for index, row in enumerate(rows, start=1):
            if not isinstance(row, dict) or set(row) != set(wanted):
                raise ProtocolError(f"{where}: [{shift}] severity {index} must give exactly "
                                    f"{', '.join(wanted)}")
        levels[shift] = tuple(rows)
        descriptions[shift] = str(table.get("description", ""))
    size = head.get("reference_size")
    return ShiftSuite(str(head["name"]), str(head["version"]),
                      int(size) if size is not None else None, levels, descriptions,
                      resolution, perturbations)


def versions() -> list[str]:
    """The built-in suites, oldest first (``v1``, ``v2``...)."""
    folder = resources.files("bench") / "shifts"
    found = [entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".toml")]
    return sorted(found, key=lambda version: (len(version), version))


def load_suite(version: str | None = None) -> ShiftSuite:
    """A built-in suite by version (``v1``, ``1`` or ``v1.toml``).

    Without one: ``$BENCH_SHIFT_SUITE``, else :data:`DEFAULT_VERSION`.
    """
    text = str(version or os.environ.get(ENVIRONMENT) or DEFAULT_VERSION).strip().lower()
    text = text.removesuffix(".toml")
    wanted = text if text.startswith("v") else f"v{text}"
    if wanted not in versions():
        where = f"${ENVIRONMENT}={text}" if not version and os.environ.get(ENVIRONMENT) else text
        raise OptionError(f"{where}: no such shift suite; the built-in ones are "
                          f"{', '.join(versions())} ({DEFAULT_VERSION} is the default).")
    return _load(wanted)


@functools.cache
def _load(version: str) -> ShiftSuite:
    path = resources.files("bench") / "shifts" / f"{version}.toml"
    return _parse(path.read_text(encoding="utf-8"), f"bench/shifts/{version}.toml")


def every_suite() -> list[ShiftSuite]:
    """Every built-in suite, the one in use first (boards recognise old results by these)."""
    current = load_suite()
    return [current, *(_load(v) for v in reversed(versions()) if v != f"v{current.version}")]
