"""The plugin host: one cached object holding the plugin manager, the load records, the registries.

Built on first use by :func:`get_host` (never at import time). Data sets that appear on this
machine while a process runs (a generated set, a prepared ``folder:`` set) are found by the
``find_datasets`` hook when a name is missed or a list is asked for, so nothing ever needs to
reset the host; :func:`reset` exists for tests and notebooks that change installed plugins.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from bench.plugins import PluginSet, discover
from bench.registry import Registries, build_registries


@dataclass
class PluginHost:
    """Everything discovery produced: the pluggy manager with its records, and the registries."""

    plugins: PluginSet
    registries: Registries
    cli: Any = None  # the click group plugins' commands were added to (bench.cli)


@functools.lru_cache(maxsize=1)
def get_host() -> PluginHost:
    """The process-wide host, discovered once."""
    plugins = discover()
    return PluginHost(plugins, build_registries(plugins))


def get_plugins() -> PluginSet:
    return get_host().plugins


def get_registries() -> Registries:
    return get_host().registries


def reset() -> None:
    """Forget the host; the next lookup discovers the installed plugins again."""
    get_host.cache_clear()
