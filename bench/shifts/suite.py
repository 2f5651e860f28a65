"""A shift suite: which shifts exist and their parameters at each severity.

Like a protocol it is a versioned TOML file (``bench/shifts/v1.toml``) whose hash covers every
value that changes a pixel (not the descriptions), so a shifted test set made under changed
parameters gets another fingerprint and its scores never meet the old ones. What each shift
does is a row of :data:`bench.shifts.perturbations.PERTURBATIONS`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from bench.errors import OptionError, ProtocolError, UnknownNameError
from bench.shifts.context import ShiftContext
from bench.shifts.perturbations import PERTURBATIONS, Perturbation
from bench.tomlfile import parse_toml

SEVERITIES = (1, 2, 3, 4, 5)
DEFAULT_FILE = "v1.toml"


@dataclass(frozen=True)
class ShiftSuite:
    """The shifts of one definition file, each with its parameters per severity."""

    name: str
    version: str
    reference_size: int
    levels: dict[str, tuple[dict[str, Any], ...]]
    descriptions: dict[str, str]

    @property
    def shifts(self) -> list[str]:
        return list(self.levels)

    @functools.cached_property
    def hash(self) -> str:
        """sha256 of every value that changes a pixel, first 16 hex digits (like protocols)."""
        recipe = {"reference_size": self.reference_size, "levels": self.levels}
        canonical = json.dumps(recipe, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def check_shift(self, shift: str) -> str:
        if shift not in self.levels:
            raise UnknownNameError("shift", shift, self.shifts)
        return shift

    def perturbation(self, shift: str) -> Perturbation:
        """The row of the perturbation table that ``shift`` applies."""
        return PERTURBATIONS[self.check_shift(shift)]

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
        return ShiftContext(shift, self.level(shift, level), self.reference_size)

    def apply(self, image: np.ndarray, shift: str, level: str) -> np.ndarray:
        """``image`` under ``shift`` at ``level`` (a severity, or scale's free factor)."""
        return self.perturbation(shift).apply(image, self.parameters(shift, level),
                                              self.context(shift, level))


def _parse(text: str, where: str) -> ShiftSuite:
    data = parse_toml(text, where, ProtocolError)
    head = data.pop("suite", None)
    if not isinstance(head, dict) or not {"name", "version", "reference_size"} <= set(head):
        raise ProtocolError(f"{where}: needs a [suite] table with name, version, reference_size")
    levels, descriptions = {}, {}
    for shift, table in data.items():
        if shift not in PERTURBATIONS:
            raise ProtocolError(f"{where}: unknown shift [{shift}]; bench knows "
                                f"{', '.join(PERTURBATIONS)}")
        wanted = PERTURBATIONS[shift].parameters
        rows = table.get("levels") if isinstance(table, dict) else None
        if not isinstance(rows, list) or len(rows) != len(SEVERITIES):
            raise ProtocolError(f"{where}: [{shift}] needs levels = a list of "
                                f"{len(SEVERITIES)} tables, one per severity")
        for index, row in enumerate(rows, start=1):
            if not isinstance(row, dict) or set(row) != set(wanted):
                raise ProtocolError(f"{where}: [{shift}] severity {index} must give exactly "
                                    f"{', '.join(wanted)}")
        levels[shift] = tuple(rows)
        descriptions[shift] = str(table.get("description", ""))
    return ShiftSuite(str(head["name"]), str(head["version"]), int(head["reference_size"]),
                      levels, descriptions)


@functools.cache
def load_suite(filename: str = DEFAULT_FILE) -> ShiftSuite:
    """The built-in suite definition (``bench/shifts/<filename>``)."""
    path = resources.files("bench") / "shifts" / filename
    return _parse(path.read_text(encoding="utf-8"), f"bench/shifts/{filename}")
