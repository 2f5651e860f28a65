"""`bench generate ...`: train generators, sample cells, compose data sets."""

from __future__ import annotations

COMMANDS: list = []
