"""Versioned shift-suite definitions (``v1.toml``...): data, read by :mod:`bench.data.shifts`."""
