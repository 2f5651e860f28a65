"""`bench run` and `bench runs ...`: the protocol engine."""

from __future__ import annotations

COMMANDS: list = []
