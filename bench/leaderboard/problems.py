"""What a submission check finds: problems, each at its file and row, and the checks not made.

A problem fails the check. A check that could not be made here (no label manifest ships for a
data set, and it is not prepared on this machine) is listed as ``unchecked``: it fails only
with ``--strict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "unchecked"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is: ``row`` is the line in ``file`` (0: the file as a whole)."""

    file: str
    row: int
    message: str
    also: tuple[int, ...] = ()  # other rows with the very same problem
    severity: Severity = "error"

    def __str__(self) -> str:
        unit = "line" if self.file.endswith(".md") else "row"
        where = f"{self.file} {unit} {self.row}" if self.row else self.file
        more = ""
        if self.also:
            shown = ", ".join(map(str, self.also[:5]))
            more = f" (also {unit}s {shown}{', …' if len(self.also) > 5 else ''}; " \
                   f"{len(self.also) + 1} in all)"
        prefix = "not checked: " if self.severity == "unchecked" else ""
        return f"{prefix}{where}: {self.message}{more}"


class Collector:
    """Problems in order of first appearance; the same message on many rows is one problem."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.rows: dict[str, list[int]] = {}

    def add(self, row: int, message: str) -> None:
        self.rows.setdefault(message, []).append(row)

    def problems(self) -> list[Problem]:
        return [Problem(self.file, rows[0], message, tuple(rows[1:]))
                for message, rows in self.rows.items()]


def failures(problems: Sequence[Problem], *, strict: bool = False) -> list[Problem]:
    """The problems that fail a check: errors, and with ``strict`` the checks not made."""
    return [p for p in problems if strict or p.severity == "error"]
