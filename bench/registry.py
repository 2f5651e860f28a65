"""Registries: one name (or alias) means one thing, whatever its case.

Each plugin's hook is called on its own so that a spec can be traced to its plugin, a wrong
return type is reported against the plugin that returned it, and a clash names both sides.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bench.errors import DuplicateNameError, PluginError, UnknownNameError
from bench.plugins import PluginSet, get_plugins
from bench.specs import DatasetSpec, GeneratorSpec, ModelSpec, Spec

S = TypeVar("S", bound=Spec)


@dataclass
class Registry(Generic[S]):
    """Specs of one kind, looked up case-insensitively by name or alias."""

    kind: str
    spec_type: type[S]
    _specs: dict[str, S] = field(default_factory=dict)  # canonical name -> spec
    _keys: dict[str, str] = field(default_factory=dict)  # lower-case name or alias -> name
    _owners: dict[str, str] = field(default_factory=dict)  # canonical name -> plugin
    _clashes: dict[str, str] = field(default_factory=dict)  # lower-case key -> message

    def add(self, spec: S, plugin: str) -> None:
        if not isinstance(spec, self.spec_type):
            raise PluginError(
                f"plugin {plugin!r} returned {type(spec).__name__} from register_{self.kind}s; "
                f"expected bench.{self.spec_type.__name__}"
            )
        if not spec.name or not isinstance(spec.name, str):
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} without a name")
        keys = {spec.name.lower(), *(alias.lower() for alias in spec.aliases)}
        for key in sorted(keys):
            if key in self._keys:
                other = self._keys[key]
                message = (
                    f"{self.kind} name {key!r} is registered twice: by plugin "
                    f"{self._owners[other]!r} ({other}) and by plugin {plugin!r} ({spec.name}). "
                    f"Disable one of them with BENCH_DISABLE_PLUGINS."
                )
                self._clashes[key] = message
                raise DuplicateNameError(message)
        self._specs[spec.name] = spec
        self._owners[spec.name] = plugin
        self._keys.update(dict.fromkeys(keys, spec.name))

    def get(self, name: str) -> S:
        key = name.strip().lower()
        if key in self._clashes:
            raise DuplicateNameError(self._clashes[key])
        if key in self._keys:
            return self._specs[self._keys[key]]
        prefix, sep, argument = name.partition(":")
        if sep and prefix.lower() in self._keys:
            family = self._specs[self._keys[prefix.lower()]]
            if family.resolve_argument is not None:
                return family.resolve_argument(argument)  # type: ignore[return-value]
        raise UnknownNameError(self.kind, name, self.names())

    def names(self) -> list[str]:
        return sorted(self._specs)

    def owner(self, name: str) -> str:
        return self._owners[self.get(name).name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._keys

    def __iter__(self) -> Iterator[S]:
        return iter(self._specs[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._specs)


@dataclass
class Registries:
    datasets: Registry[DatasetSpec]
    models: Registry[ModelSpec]
    generators: Registry[GeneratorSpec]
    problems: list[str] = field(default_factory=list)


def build_registries(plugins: PluginSet) -> Registries:
    """Call every plugin's hooks and file what they return; problems are kept, not raised."""
    result = Registries(
        datasets=Registry("dataset", DatasetSpec),
        models=Registry("model", ModelSpec),
        generators=Registry("generator", GeneratorSpec),
    )
    records = {record.name: record for record in plugins.records}
    for registry in (result.datasets, result.models, result.generators):
        hook = getattr(plugins.manager.hook, f"register_{registry.kind}s")
        for impl in sorted(hook.get_hookimpls(), key=lambda impl: impl.plugin_name):
            plugin = impl.plugin_name
            try:
                returned = impl.function()
                if returned is None or isinstance(returned, (str, bytes, Spec)):
                    raise PluginError(
                        f"plugin {plugin!r}: register_{registry.kind}s must return a list of "
                        f"bench.{registry.spec_type.__name__}, got {type(returned).__name__}"
                    )
                for spec in returned:
                    registry.add(spec, plugin)
                    if plugin in records:
                        records[plugin].registers.setdefault(registry.kind, []).append(spec.name)
            except Exception as exc:  # one plugin's fault is reported, the rest still load
                message = str(exc) if isinstance(exc, PluginError | DuplicateNameError) else (
                    f"plugin {plugin!r} raised in register_{registry.kind}s: "
                    f"{type(exc).__name__}: {exc}"
                )
                result.problems.append(message)
                if plugin in records and records[plugin].status == "loaded":
                    records[plugin].error = message
    return result


@functools.lru_cache(maxsize=1)
def get_registries() -> Registries:
    """The process-wide registries, built from the discovered plugins on first use."""
    return build_registries(get_plugins())
