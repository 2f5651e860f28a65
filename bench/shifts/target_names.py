"""Shifted targets' names and fingerprints: ``NAME~SHIFT:SEVERITY``, a test split under a shift.

``wbc-usid-b~stain:3`` is accepted wherever a target is; ``NAME~stain`` and ``all~stain`` mean
severities 1 to 5, ``NAME~stain:2..4`` a range.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from bench.errors import BenchError, OptionError
from bench.shifts.suite import SEVERITIES, ShiftSuite, every_suite, load_suite

MARK = "~"
RANGE = ".."


def is_shifted(name: str) -> bool:
    return MARK in str(name)


@dataclass(frozen=True)
class ShiftedName:
    base: str
    shift: str
    level: str  # canonical: "3", or a free parameter such as "0.5" (scale)

    @property
    def name(self) -> str:
        return f"{self.base}{MARK}{self.shift}:{self.level}"

    @property
    def severity(self) -> float:
        """Where it sits on a severity axis (a free scale factor sits by its nearest level)."""
        return float(self.level) if self.level.isdigit() else float("nan")


def parse_name(name: str, suite: ShiftSuite | None = None) -> ShiftedName:
    """Split ``NAME~SHIFT:LEVEL`` (one severity) into its parts, canonically spelled."""
    suite = suite or load_suite()
    base, _, rest = str(name).partition(MARK)
    shift, colon, level = rest.partition(":")
    if not base or not shift or not colon:
        raise OptionError(f"--target {name}: a shifted target is NAME{MARK}SHIFT:SEVERITY, "
                          f"e.g. wbc-usid-b{MARK}stain:3 (shifts: {', '.join(suite.shifts)}).")
    return ShiftedName(base, suite.check_shift(shift.strip().lower()),
                       suite.level(shift.strip().lower(), level))


def expand_names(text: str, resolve: Callable[[str], list[str]],
                 suite: ShiftSuite | None = None) -> list[str]:
    """Every member a request names: ``all~stain`` is each data set at severities 1 to 5.

    ``resolve`` maps the base (a name, an alias or ``all``) to canonical data-set names.
    """
    suite = suite or load_suite()
    base, _, rest = str(text).partition(MARK)
    shift, colon, levels = rest.partition(":")
    shift = shift.strip().lower()
    if not base.strip() or not shift:
        raise OptionError(f"--target {text}: a shifted target is NAME{MARK}SHIFT[:SEVERITY], "
                          f"e.g. wbc-usid-b{MARK}stain:3 (shifts: {', '.join(suite.shifts)}).")
    suite.check_shift(shift)
    if not colon or not levels.strip():
        wanted = [str(s) for s in SEVERITIES]
    elif RANGE in levels:
        low, _, high = levels.partition(RANGE)
        first, last = suite.level(shift, low), suite.level(shift, high)
        if not (first.isdigit() and last.isdigit()) or int(first) > int(last):
            raise OptionError(f"--target {text}: a range of severities is LOW..HIGH with whole "
                              f"numbers, LOW at most HIGH (e.g. {shift}:1..5).")
        wanted = [str(s) for s in range(int(first), int(last) + 1)]
    else:
        wanted = [suite.level(shift, levels)]
    return [ShiftedName(name, shift, level).name
            for name in resolve(base.strip()) for level in wanted]


def shifted_fingerprint(base_fingerprint: str, shifted: ShiftedName, suite: ShiftSuite) -> str:
    """The base split's fingerprint, the suite's hash, the shift and its parameters."""
    parameters = json.dumps(suite.parameters(shifted.shift, shifted.level), sort_keys=True)
    text = "\n".join([base_fingerprint, suite.hash, shifted.shift, shifted.level, parameters])
    return hashlib.sha256(text.encode()).hexdigest()


def built_in_fingerprint(base_fingerprint: str, shifted: ShiftedName, claimed: str = "") -> str:
    """``shifted``'s fingerprint under the built-in suite that gives ``claimed``.

    Else under the suite in use: records made under an older suite (v1) still check.
    """
    made = []
    for suite in every_suite():
        try:
            made.append(shifted_fingerprint(base_fingerprint, shifted, suite))
        except BenchError:
            continue  # a shift or severity this suite does not have
    return claimed if claimed in made else made[0]
