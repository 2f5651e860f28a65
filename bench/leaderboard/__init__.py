"""Leaderboards: a pure function of the results store."""
