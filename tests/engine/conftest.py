"""Fixtures of the engine's tests: the tiny world (tests/tiny_world.py)."""

from tiny_world import tiny_world  # noqa: F401 - a fixture, found by name
