"""Registries: one name (or alias) means one thing, whatever its case.

Each plugin's hook is called on its own so that a spec can be traced to its plugin, a wrong
return type is reported against the plugin that returned it, and a clash names both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bench.errors import BenchError, DuplicateNameError, PluginError, UnknownNameError
from bench.plugins import PluginSet, failure_notes
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
    # Specs found on this machine now (``find_datasets``): asked again on a miss or a listing,
    # kept apart so that they never shadow a registered name.
    find_local: Callable[[], Iterable[tuple[S, str]]] | None = field(default=None, repr=False)
    _local: Registry[S] | None = field(default=None, repr=False)
    local_problems: list[str] = field(default_factory=list)
    # Plugins that failed, clashed or were disabled: named when a lookup misses.
    not_loaded: Callable[[], list[str]] | None = field(default=None, repr=False)
    # Whether a bare name no spec has is tried on every family (``resnet18`` -> ``timm:resnet18``):
    # for models, not for data sets, where a family argument is a path that must be explicit.
    bare_family_names: bool = False

    def refresh(self) -> None:
        """Look again for specs found on this machine (a data set generated since the last look)."""
        if self.find_local is None:
            return
        local: Registry[S] = Registry(self.kind, self.spec_type)
        problems = []
        for spec, plugin in self.find_local():
            try:
                keys = {spec.name.lower(), *(alias.lower() for alias in spec.aliases)}
                if taken := sorted(key for key in keys if key in self._keys):
                    raise DuplicateNameError(
                        f"{self.kind} {spec.name!r} found by plugin {plugin!r} is not registered: "
                        f"the name {taken[0]!r} is taken by plugin "
                        f"{self._owners[self._keys[taken[0]]]!r}. Rename its folder."
                    )
                local.add(spec, plugin)
            except (PluginError, DuplicateNameError) as exc:
                problems.append(str(exc))
        self._local, self.local_problems = local, problems

    def add(self, spec: S, plugin: str) -> None:
        if not isinstance(spec, self.spec_type):
            raise PluginError(
                f"plugin {plugin!r} returned {type(spec).__name__} from register_{self.kind}s; "
                f"expected bench.{self.spec_type.__name__}"
            )
        if not spec.name or not isinstance(spec.name, str):
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} without a name")
        if problems := spec.problems():
            raise PluginError(f"plugin {plugin!r}: {self.kind} {spec.name!r} is refused: "
                              + "; ".join(problems))
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
                clash = DuplicateNameError(message)
                clash.owner = (self._owners[other], other)  # type: ignore[attr-defined]
                raise clash
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
        self.refresh()
        if self._local is not None and key in self._local._keys:
            return self._local.get(name)
        if self.bare_family_names and not sep and (found := self._in_families(name)):
            return found
        raise UnknownNameError(self.kind, name, self.names(),
                               self.not_loaded() if self.not_loaded else ())

    def _in_families(self, name: str) -> S | None:
        """The one family member ``name`` resolves to (``FAMILY:name``); None if not exactly one."""
        found = []
        for family in self._specs.values():
            if family.resolve_argument is not None:
                try:
                    found.append(family.resolve_argument(name))
                except BenchError:  # not a member of this family
                    continue
        return found[0] if len(found) == 1 else None  # type: ignore[return-value]

    def names(self) -> list[str]:
        self.refresh()
        return sorted([*self._specs, *(self._local._specs if self._local else ())])

    def owner(self, name: str) -> str:
        spec = self.get(name)
        if spec.name in self._owners:
            return self._owners[spec.name]
        return self._local._owners[spec.name] if self._local else ""

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.strip().lower()
        if key in self._keys:
            return True
        self.refresh()
        return self._local is not None and key in self._local._keys

    def __iter__(self) -> Iterator[S]:
        names = self.names()  # refreshes the local part once
        local = self._local._specs if self._local else {}
        return iter(self._specs.get(name) or local[name] for name in names)

    def __len__(self) -> int:
        return len(self.names())


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
        models=Registry("model", ModelSpec, bare_family_names=True),
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
                    try:
                        registry.add(spec, plugin)
                    except (PluginError, DuplicateNameError) as exc:  # this spec only
                        result.problems.append(str(exc))
                        if plugin in records:
                            records[plugin].problems.append(str(exc))
                        _blame_first_owner(exc, records, registry.kind)
                        continue
                    if plugin in records:
                        records[plugin].registers.setdefault(registry.kind, []).append(spec.name)
            except Exception as exc:  # one plugin's fault is reported, the rest still load
                message = str(exc) if isinstance(exc, PluginError | DuplicateNameError) else (
                    f"plugin {plugin!r} raised in register_{registry.kind}s: "
                    f"{type(exc).__name__}: {exc}"
                )
                result.problems.append(message)
                if plugin in records and records[plugin].status == "loaded":
                    records[plugin].status = "failed"  # its hook did not register anything
                    records[plugin].error = message
    result.datasets.find_local = lambda: _found_datasets(plugins)
    for registry in (result.datasets, result.models, result.generators):
        registry.not_loaded = lambda: failure_notes(plugins.records)
    return result


def _blame_first_owner(exc: Exception, records: dict, kind: str) -> None:
    """A clash blocks the name for both plugins: the first one's row says so too."""
    owner, name = getattr(exc, "owner", (None, None))
    if owner in records:
        record = records[owner]
        record.problems.append(str(exc))
        if name in record.registers.get(kind, []):
            record.registers[kind].remove(name)


def mark_failed(plugins: PluginSet, name: str, message: str) -> None:
    """A hook of plugin ``name`` raised: it shows as failed, with the first such error."""
    for record in plugins.records:
        if record.name == name and record.status == "loaded":
            record.status, record.error = "failed", message


def _found_datasets(plugins: PluginSet) -> Iterable[tuple[DatasetSpec, str]]:
    """Call every plugin's ``find_datasets``; a plugin that raises is skipped, not fatal."""
    import warnings

    from bench.home import data_home

    home = data_home(create=False)
    for impl in sorted(plugins.manager.hook.find_datasets.get_hookimpls(),
                       key=lambda impl: impl.plugin_name):
        try:
            arguments = {"home": home} if "home" in impl.argnames else {}
            found = list(impl.function(**arguments) or ())
        except Exception as exc:  # noqa: BLE001 - one plugin's fault must not hide the rest
            message = (f"plugin {impl.plugin_name!r} raised in find_datasets: "
                       f"{type(exc).__name__}: {exc}")
            warnings.warn(message, stacklevel=2)
            mark_failed(plugins, impl.plugin_name, message)
            continue
        for spec in found:
            yield spec, impl.plugin_name
