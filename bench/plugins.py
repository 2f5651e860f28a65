"""Plugin discovery: walk the entry-point group ourselves, load each plugin in isolation.

pluggy's own ``load_setuptools_entrypoints`` silently skips a second entry point with a name
already in use and stops at the first import error; a benchmark harness must instead report
both, and keep every other plugin working.
"""

from __future__ import annotations

import importlib
import os
import traceback
import warnings
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from bench import hookspecs

ENTRY_POINT_GROUP = "bench"
DISABLE_ENV = "BENCH_DISABLE_PLUGINS"
FIRST_PARTY_DISTRIBUTION = "wbc-bench"
RESERVED_NAMES = frozenset({"datasets", "models", "generators"})


@dataclass
class PluginRecord:
    """What happened to one entry point: loaded, failed, disabled or clashing."""

    name: str
    distribution: str
    version: str
    value: str
    status: str = "loaded"
    error: str | None = None
    traceback: str | None = None
    registers: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # specs it registered that were refused


@dataclass
class PluginSet:
    manager: pluggy.PluginManager
    records: list[PluginRecord]


def disabled_plugins() -> set[str]:
    """Plugin names listed in ``BENCH_DISABLE_PLUGINS`` (comma separated)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def _distribution_of(entry_point: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "?", "?"
    return dist.metadata["Name"], dist.version


def _entry_points() -> list[metadata.EntryPoint]:
    found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    # Sorted for determinism; the first-party distribution first, so it keeps reserved names.
    return sorted(
        found,
        key=lambda ep: (_distribution_of(ep)[0] != FIRST_PARTY_DISTRIBUTION, ep.name, ep.value),
    )


def discover(extra: dict[str, object] | None = None) -> PluginSet:
    """Build a plugin manager with every entry point of the ``bench`` group loaded.

    ``extra`` registers in-process plugin objects too (used by tests and notebooks).
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    records: list[PluginRecord] = []
    owners: dict[str, PluginRecord] = {}
    disabled = disabled_plugins()
    for entry_point in _entry_points():
        dist, version = _distribution_of(entry_point)
        record = PluginRecord(entry_point.name, dist, version, entry_point.value)
        records.append(record)
        owner = owners.get(entry_point.name)
        if entry_point.name in disabled:
            record.status = "disabled"
            record.error = f"disabled by {DISABLE_ENV}"
            continue
        if owner is not None or (
            entry_point.name in RESERVED_NAMES and dist != FIRST_PARTY_DISTRIBUTION
        ):
            first = owner.distribution if owner else FIRST_PARTY_DISTRIBUTION
            record.status = "clash"
            record.error = (
                f"plugin name {entry_point.name!r} is declared by both {first} and {dist}; "
                f"{dist}'s copy is not loaded. Rename its entry point."
            )
            continue
        owners[entry_point.name] = record
        try:
            plugin = entry_point.load()
            manager.register(plugin, name=entry_point.name)
            manager.check_pending()  # a mistyped hook name is this plugin's fault alone
        except Exception as exc:  # a broken plugin must never take the others down
            record.status = "failed"
            record.error = f"{type(exc).__name__}: {exc}"
            record.traceback = traceback.format_exc()
            if manager.has_plugin(entry_point.name):
                manager.unregister(name=entry_point.name)
    for name, plugin in (extra or {}).items():
        if isinstance(plugin, str):
            plugin = importlib.import_module(plugin)
        manager.register(plugin, name=name)
        records.append(PluginRecord(name, "(in process)", "", repr(plugin)))
    manager.check_pending()
    _warn_unknown_disabled(disabled, records)
    return PluginSet(manager, records)


def _warn_unknown_disabled(disabled: set[str], records: list[PluginRecord]) -> None:
    """A misspelt name in the variable would otherwise leave its plugin silently enabled."""
    known = sorted({record.name for record in records})
    if unknown := sorted(disabled - set(known)):
        warnings.warn(f"{DISABLE_ENV} names {', '.join(map(repr, unknown))}, which no installed "
                      f"plugin is called; the plugins are: {', '.join(known) or '(none)'}",
                      stacklevel=3)


def failure_notes(records: list[PluginRecord]) -> list[str]:
    """One line per plugin that is not working, for messages about a name nobody registered."""
    return [f"plugin {record.name!r} ({record.distribution}) {record.status}: {record.error}"
            for record in records if record.status != "loaded"]
