"""Leaderboard submissions: the records a board is built from, their check, and publishing."""
