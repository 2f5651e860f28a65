"""Protocols: the benchmark recipe as a versioned data file, validated and hashed.

The hash covers every recipe value and nothing else (not the name, description or comments),
so two results are comparable exactly when their protocol hashes agree.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from bench.errors import ProtocolError, UnknownNameError
from bench.protocols.bounds import BOUNDS as BOUNDS  # the run options read the ranges
from bench.protocols.bounds import check_bounds
from bench.tomlfile import parse_toml

MONITORS = ("val_f1", "val_accuracy", "val_loss")


@dataclass(frozen=True)
class Splits:
    seed: int
    real: tuple[float, float, float]
    synthetic_val_fraction: float


@dataclass(frozen=True)
class Training:
    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    sampler: str
    amp: bool
    # Speed settings added later (defaults keep old hashes): both change the arithmetic's order,
    # so they are recipe values. channels_last: NHWC memory format for model and batches;
    # compile: torch.compile (inductor, its default mode) around the model's forward.
    channels_last: bool = False
    compile: bool = False
    # Added later (the default keeps old hashes): images per class drawn from the source's
    # train split (bench.engine.few_shot), or "all".
    shots: Union[int, str] = "all"  # noqa: UP007


@dataclass(frozen=True)
class EarlyStopping:
    monitor: str
    patience: int
    min_delta: float


@dataclass(frozen=True)
class Augmentation:
    rotation_degrees: float
    hflip: float
    vflip: float
    centre_crop: float
    blur_p: float
    blur_sigma: tuple[float, float]
    jitter_brightness: float
    jitter_contrast: float
    jitter_saturation: float
    jitter_hue: float


@dataclass(frozen=True)
class Input:
    size: Union[int, str]  # noqa: UP007 - "model" or a side in pixels
    cache_size: int


@dataclass(frozen=True)
class Metrics:
    average: str


HEADS = ("finetune", "linear", "knn")


@dataclass(frozen=True)
class Probe:
    """A head fitted on a frozen backbone's embeddings instead of fine-tuning the whole model.

    The whole section was added later: its defaults (``head = "finetune"``, every other value 0:
    not set) keep the hashes of every fine-tuning protocol. A probe protocol states the values
    its head reads, so they are in its hash. ``linear``: L-BFGS multinomial logistic regression
    on standardised embeddings, one fit per inverse L2 strength ``C`` in ``c_steps`` log-spaced
    values from ``c_low`` to ``c_high``, at most ``max_iter`` iterations each (DINOv2's
    ``log_regression.py``); ``knn``: cosine similarity, the ``k`` nearest training embeddings
    vote with weight ``exp(similarity / temperature)`` (DINO's ``eval_knn.py``).
    """

    head: str = "finetune"
    c_low: float = 0.0
    c_high: float = 0.0
    c_steps: int = 0
    max_iter: int = 0
    k: int = 0
    temperature: float = 0.0


@dataclass(frozen=True)
class Protocol:
    name: str
    version: str
    description: str
    splits: Splits
    training: Training
    early_stopping: EarlyStopping
    augmentation: Augmentation
    input: Input
    metrics: Metrics
    source: str = ""
    probe: Probe = field(default_factory=Probe)

    @property
    def recipe(self) -> dict[str, Any]:
        """Every value that changes results; what the hash covers.

        A setting added to the schema later has a default, and is left out while it holds that
        default: adding a setting never changes the hash (so the identity) of existing results.
        """
        data = {}
        for section in fields(self):
            if section.name in _DESCRIPTIVE:
                continue
            value = getattr(self, section.name)
            if _is_default(section, value):
                continue
            if dataclasses.is_dataclass(value):
                value = {f.name: dataclasses.asdict(value)[f.name] for f in fields(value)
                         if not _is_default(f, getattr(value, f.name))}
            data[section.name] = value
        return data

    @property
    def hash(self) -> str:
        canonical = json.dumps(self.recipe, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def with_overrides(self, **sections: dict[str, Any]) -> Protocol:
        """A copy with some recipe values replaced, e.g. ``training={"max_epochs": 3}``."""
        changed = {}
        for section, values in sections.items():
            values = {k: v for k, v in values.items() if v is not None}
            if values:
                changed[section] = dataclasses.replace(getattr(self, section), **values)
        return dataclasses.replace(self, **changed) if changed else self

    def overrides(self) -> list[tuple[str, Any]]:
        """Each ``("section.field", value)`` differing from the built-in of the same name.

        What ``--epochs`` and the like changed, for board headers and `bench runs show`.
        """
        return recipe_differences(self.name, self.recipe)

    def input_size(self, model_input_size: int) -> int:
        return model_input_size if self.input.size == "model" else int(self.input.size)

    @property
    def cell_epochs(self) -> int:
        """The most "epochs" a cell records: training epochs, or a linear probe's C values."""
        return {"linear": self.probe.c_steps, "knn": 1}.get(self.probe.head,
                                                           self.training.max_epochs)

    @property
    def is_probe(self) -> bool:
        """Whether cells fit a head on frozen embeddings (bench.engine.probe), not fine-tune."""
        return self.probe.head != "finetune"


_SECTIONS = {f.name: f for f in fields(Protocol)}
_DESCRIPTIVE = ("name", "version", "description", "source")


def _has_default(spec: dataclasses.Field) -> bool:
    return (spec.default is not dataclasses.MISSING
            or spec.default_factory is not dataclasses.MISSING)


def _is_default(spec: dataclasses.Field, value: Any) -> bool:
    """Whether a field that has a default (a setting added later) holds it."""
    if spec.default is not dataclasses.MISSING:
        return value == spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return value == spec.default_factory()
    return False


_SECTION_TYPES = get_type_hints(Protocol)


def builtin_names() -> list[str]:
    folder = resources.files("bench") / "protocols"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def _coerce(value: Any, kind: Any, where: str) -> Any:
    origin = get_origin(kind)
    if origin is Union:
        for option in get_args(kind):
            try:
                return _coerce(value, option, where)
            except ProtocolError:
                continue
        raise ProtocolError(f"{where}: expected one of {get_args(kind)}, got {value!r}")
    if origin is tuple:
        items = get_args(kind)
        if not isinstance(value, list) or len(value) != len(items):
            raise ProtocolError(f"{where}: expected a list of {len(items)} values, got {value!r}")
        return tuple(_coerce(v, t, f"{where}[{i}]") for i, (v, t) in enumerate(zip(value, items)))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is bool and not isinstance(value, bool) or not isinstance(value, kind):
        raise ProtocolError(f"{where}: expected {kind.__name__}, got {value!r}")
    if kind is int and isinstance(value, bool):
        raise ProtocolError(f"{where}: expected int, got {value!r}")
    return value


def _section(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ProtocolError(f"{where}: expected a table")
    hints = get_type_hints(cls)
    unknown = set(data) - set(hints)
    if unknown:
        raise ProtocolError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    optional = {f.name for f in fields(cls) if _has_default(f)}
    missing = set(hints) - set(data) - optional
    if missing:
        raise ProtocolError(f"{where}: missing field(s) {', '.join(sorted(missing))}")
    return cls(**{k: _coerce(data[k], hints[k], f"{where}.{k}") for k in hints if k in data})


def check_protocol(protocol: Protocol) -> None:
    """Every rule a protocol must satisfy, for a protocol made in code (``with_overrides``)."""
    _check(protocol, protocol.source or f"protocol {protocol.name}")


def _check(protocol: Protocol, where: str) -> None:
    check_bounds(protocol, where)
    if abs(sum(protocol.splits.real) - 1) > 1e-9:
        raise ProtocolError(f"{where}: splits.real must be three positive fractions summing to 1")
    if protocol.early_stopping.monitor not in MONITORS:
        raise ProtocolError(
            f"{where}: early_stopping.monitor must be one of {', '.join(MONITORS)}, "
            f"got {protocol.early_stopping.monitor!r}"
        )
    if protocol.training.optimizer != "sgd":
        raise ProtocolError(f"{where}: training.optimizer: only 'sgd' is implemented")
    if protocol.training.sampler not in ("balanced", "shuffle"):
        raise ProtocolError(f"{where}: training.sampler must be 'balanced' or 'shuffle'")
    if protocol.metrics.average != "weighted":
        raise ProtocolError(f"{where}: metrics.average: only 'weighted' (the paper's) is "
                            f"implemented; macro F1 and balanced accuracy are always stored too")
    if isinstance(protocol.input.size, str) and protocol.input.size != "model":
        raise ProtocolError(f"{where}: input.size must be 'model' or a number of pixels")
    _check_probe(protocol, where)


def _check_probe(protocol: Protocol, where: str) -> None:
    """The settings added for probes and label efficiency (``[probe]``, ``training.shots``)."""
    shots = protocol.training.shots
    if shots != "all" and not (isinstance(shots, int) and shots >= 1):
        raise ProtocolError(f"{where}: training.shots must be 'all' or a whole number of images "
                            f"per class of at least 1, got {shots!r}")
    probe = protocol.probe
    if probe.head not in HEADS:
        raise ProtocolError(f"{where}: probe.head must be one of {', '.join(HEADS)}, "
                            f"got {probe.head!r}")
    if probe.head == "linear" and not (0 < probe.c_low <= probe.c_high and probe.c_steps >= 1
                                       and probe.max_iter >= 1):
        raise ProtocolError(f"{where}: a linear probe needs probe.c_low and c_high positive "
                            f"(c_low <= c_high) and probe.c_steps and max_iter at least 1")
    if probe.head == "knn" and not (probe.k >= 1 and probe.temperature > 0):
        raise ProtocolError(f"{where}: a k-NN probe needs probe.k at least 1 and "
                            f"probe.temperature positive")


def parse(text: str, where: str) -> Protocol:
    """Parse and validate protocol TOML; errors name ``where`` and the field."""
    data = parse_toml(text, where, ProtocolError)
    meta = data.pop("protocol", None)
    if not isinstance(meta, dict) or "name" not in meta:
        raise ProtocolError(f"{where}: a [protocol] table with a name is required")
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise ProtocolError(f"{where}: unknown table(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {
        "name": str(meta["name"]),
        "version": str(meta.get("version", "")),
        "description": str(meta.get("description", "")),
        "source": where,
    }
    for name, spec in _SECTIONS.items():
        if name in values:
            continue
        if name not in data:
            if _has_default(spec):
                continue  # a table added to the schema later: its defaults apply
            raise ProtocolError(f"{where}: missing table [{name}]")
        values[name] = _section(_SECTION_TYPES[name], data[name], f"{where}: {name}")
    protocol = Protocol(**values)
    _check(protocol, where)
    return protocol


def load_protocol(name_or_path: str | Path) -> Protocol:
    """A built-in protocol by name (``zedda2024``, ``quick``) or a TOML file by path."""
    text = str(name_or_path)
    if text in builtin_names():
        resource = resources.files("bench") / "protocols" / f"{text}.toml"
        return parse(resource.read_text(encoding="utf-8"), f"protocol {text}")
    path = Path(text).expanduser()
    if path.suffix == ".toml" or path.exists():
        if path.is_dir():
            raise ProtocolError(f"protocol {path} is a folder; give a protocol .toml file "
                                f"or a built-in name ({', '.join(builtin_names())})")
        if not path.is_file():
            raise ProtocolError(f"protocol file {path} does not exist")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(f"{path}: not a text file; a protocol is a TOML file "
                                f"(see bench/protocols/zedda2024.toml)") from None
        except OSError as exc:
            raise ProtocolError(f"protocol file {path} cannot be read ({exc.strerror})") from exc
        return parse(text, str(path))
    raise UnknownNameError("protocol", text, builtin_names())


def recipe_differences(name: str, recipe: dict[str, Any]) -> list[tuple[str, Any]]:
    """How ``recipe`` (a protocol's or a stored run's) differs from built-in protocol ``name``.

    A protocol file of its own name has nothing to differ from but the schema's defaults: of
    its values, those of settings added later (``training.shots``, ``[probe]``) are listed.
    """
    base = (_all_values(load_protocol(name)) if name in builtin_names()
            else _schema_defaults())
    ours = json.loads(json.dumps(recipe))
    return [(f"{section}.{key}", value)
            for section, values in ours.items() if isinstance(values, dict)
            for key, value in values.items()
            if base.get(section, {}).get(key, _MISSING) not in (value, _MISSING)]


_MISSING = object()  # a value with nothing to compare to: not a difference


def _all_values(protocol: Protocol) -> dict[str, Any]:
    """Every recipe value, defaults included, as JSON would give it back (tuples as lists)."""
    return json.loads(json.dumps({spec.name: dataclasses.asdict(getattr(protocol, spec.name))
                                  for spec in fields(Protocol) if spec.name not in _DESCRIPTIVE}))


def _schema_defaults() -> dict[str, dict[str, Any]]:
    """The default of every setting that has one, by section."""
    defaults: dict[str, dict[str, Any]] = {}
    for spec in fields(Protocol):
        if spec.name in _DESCRIPTIVE:
            continue
        for item in fields(_SECTION_TYPES[spec.name]):
            if _has_default(item):
                value = (item.default if item.default is not dataclasses.MISSING
                         else item.default_factory())
                defaults.setdefault(spec.name, {})[item.name] = json.loads(json.dumps(value))
    return defaults


def overrides_text(differences: list[tuple[str, Any]]) -> str:
    """``training.max_epochs=2, input.size=48``: the form boards and `runs show` print."""
    return ", ".join(f"{key}={json.dumps(value)}" for key, value in differences)


# The protocol data sets are split and cached under unless a caller names another: the paper's.
DEFAULT_PROTOCOL = "zedda2024"


def default_protocol() -> Protocol:
    return load_protocol(DEFAULT_PROTOCOL)


def from_recipe(name: str, version: str, recipe: dict[str, Any], where: str) -> Protocol:
    """The protocol a run recorded (its ``recipe``), e.g. to test its model on a new target."""
    values = {name_: _section(_SECTION_TYPES[name_], recipe.get(name_), f"{where}: {name_}")
              for name_, spec in _SECTIONS.items()
              if name_ not in _DESCRIPTIVE and (name_ in recipe or not _has_default(spec))}
    protocol = Protocol(name=name, version=version, description="", source=where, **values)
    _check(protocol, where)
    return protocol
