"""Fixtures of the engine's tests: the tiny world (tests/fixtures/tiny_world.py)."""

from fixtures.tiny_world import tiny_world  # noqa: F401 - a fixture, found by name
