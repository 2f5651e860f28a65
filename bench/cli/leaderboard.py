"""`bench leaderboard`: tables and plots from the results store."""

from __future__ import annotations

COMMANDS: list = []
