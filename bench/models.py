"""The model contract: how the engine turns any registered ``ModelSpec`` into a module to train.

A model plugin hands the engine a *factory*. The simplest is a plain callable
``(num_classes, pretrained) -> nn.Module`` with ``input_size``, ``mean`` and ``std`` on the spec.
A backend that knows more (where pretrained weights live, its own preprocessing, which layers
are the classifier) subclasses :class:`ModelFactory`; timm's backend in ``bench_models`` is one.
The engine never asks which kind it got: every model goes through :func:`build_model`, and
:func:`check_model` proves before training that it maps images to ``(N, num_classes)`` logits.

Importing this module stays cheap (no torch): plugins import it at discovery time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError, PluginError, RunError
from bench.hub import WeightFile, WeightsUnavailable
from bench.specs import ModelSpec
from bench.weights import load_weights_file, weights_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataConfig:
    """The input a model expects: a square side in pixels, normalisation, resize interpolation."""

    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"


@dataclass
class BuiltModel:
    """A module ready for the engine, the preprocessing it expects, and where its weights came from.

    ``weights`` is a :func:`bench.kit.weights_record`: source, tag, file, sha256 and notes.
    """

    module: Any  # torch.nn.Module
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str
    weights: dict[str, Any] = field(default_factory=dict)


class ModelFactory:
    """A model backend: builds the module, knows its preprocessing and its pretrained weights.

    Subclass it when a plain ``(num_classes, pretrained) -> nn.Module`` callable is not enough.
    Every method but :meth:`build` has a default, so a backend overrides only what it knows::

        class MyFactory(bench.ModelFactory):
            def build(self, num_classes, pretrained, input_size=None):
                module = MyNet(num_classes)
                if pretrained:
                    module.load_state_dict(..., strict=False)
                return module, bench.kit.weights_record("plugin" if pretrained else "none")
    """

    def build(self, num_classes: int, pretrained: bool,
              input_size: int | None = None) -> tuple[Any, dict[str, Any]]:
        """Return the module with a fresh ``num_classes``-way head and its weights' provenance.

        ``input_size`` is given only when the protocol asks for another size than the native
        one; a backend whose architecture is tied to its size (ViT) rebuilds for it.
        """
        raise NotImplementedError

    def data_config(self) -> DataConfig | None:
        """The native input size and normalisation; None: the ``ModelSpec`` fields say them."""
        return None

    def ensure_weights(self, label: str) -> None:
        """Make sure pretrained weights can be had now (raise :class:`bench.RunError` if not).

        Called before any cell of a matrix starts, so a missing download fails in seconds.
        """

    def classifier_prefixes(self, module: Any) -> tuple[str, ...]:
        """State-dict prefixes of the classifier head (``("fc.",)``).

        A ``--weights`` file's head for another number of classes is skipped under them;
        empty: bench tells the head by its shape.
        """
        return ()

    def weight_files(self) -> list[WeightFile]:
        """The files its pretrained weights are, for `bench weights download` and offline use.

        A backend that finds them with :func:`bench.kit.pretrained_file` lists them here; empty:
        none, or the plugin fetches its own (then `bench weights download` cannot help).
        """
        return []

    def convert_state_dict(self, state: dict[str, Any]) -> dict[str, Any]:
        """Map a checkpoint in the publisher's layout onto this module's keys.

        Applied to a ``--weights`` file before it is loaded, so a published checkpoint works
        as downloaded (DINOv2's ``teacher.backbone.*`` keys onto timm's); the default keeps it.
        """
        return state

    def describe(self) -> dict[str, str | None]:
        """What ``bench models list`` shows: ``architecture`` and ``weights`` (a pretrained tag)."""
        return {"architecture": None, "weights": None}


@dataclass(frozen=True)
class CallableFactory(ModelFactory):
    """The plain-callable contract: ``factory(num_classes, pretrained) -> nn.Module``."""

    spec: ModelSpec

    def build(self, num_classes: int, pretrained: bool,
              input_size: int | None = None) -> tuple[Any, dict[str, Any]]:
        # A callable factory loads its own pretrained weights; bench can only record that it did.
        module = _call(self.spec, num_classes, pretrained)
        return module, weights_record("plugin" if pretrained else "none")


def factory_of(spec: ModelSpec) -> ModelFactory:
    """The spec's factory as a :class:`ModelFactory`, wrapping a plain callable."""
    if isinstance(spec.factory, ModelFactory):
        return spec.factory
    return CallableFactory(spec)


def describe(spec: ModelSpec) -> dict[str, str | None]:
    return factory_of(spec).describe()


def name_one(family: ModelSpec) -> str:
    """How to name a member of a family, with the family's demo model as the example."""
    example = f", e.g. {family.demo}" if family.demo else ""
    return f"name one as {family.name}:<name>{example}"


def data_config(spec: ModelSpec) -> tuple[int, tuple, tuple, str]:
    """Input size, mean, std and interpolation the model expects, without building it.

    Values set on the spec win over the factory's own configuration.
    """
    explicit = (spec.input_size, spec.mean, spec.std)
    interpolation = spec.interpolation
    if None in (*explicit, interpolation):
        if spec.resolve_argument is not None:
            raise RunError(f"{spec.name!r} is a family of models, not one: {name_one(spec)}.")
        native = factory_of(spec).data_config()
        if native is not None:
            explicit = (spec.input_size or native.input_size, spec.mean or native.mean,
                        spec.std or native.std)
            interpolation = interpolation or native.interpolation
    if None in explicit:
        missing = [n for n, v in zip(("input_size", "mean", "std"), explicit, strict=True)
                   if v is None]
        raise PluginError(
            f"model {spec.name!r} gives no {', '.join(missing)}: its plugin must set input_size, "
            f"mean and std on the ModelSpec, or use a factory whose data_config() gives them."
        )
    size, mean, std = explicit
    if not (isinstance(size, int) and size > 0 and len(mean) == 3 and len(std) == 3):
        raise PluginError(
            f"model {spec.name!r}: input_size must be a positive int and mean/std three numbers "
            f"each; got input_size={size!r}, mean={mean!r}, std={std!r}."
        )
    mean = tuple(float(v) for v in mean)
    std = tuple(float(v) for v in std)
    return size, mean, std, interpolation or "bilinear"


def build_model(
    spec: ModelSpec,
    *,
    num_classes: int = 5,
    pretrained: bool = True,
    weights: Path | None = None,
    input_size: int | None = None,
) -> BuiltModel:
    """Build ``spec`` with a ``num_classes``-way head and checked weights, before any training.

    ``weights`` (a safetensors file or plain state dict) wins over ``pretrained``: the module is
    built without pretrained weights and the file is loaded strictly. Otherwise the factory
    builds it; a backend that cannot find pretrained weights raises :class:`bench.RunError`
    naming the ways out, and never falls back to random weights.
    """
    native_size, mean, std, interpolation = data_config(spec)
    input_size = input_size or native_size
    resize = input_size if input_size != native_size else None
    label = model_label(spec)
    factory = factory_of(spec)
    module, provenance = _build(factory, spec, num_classes,
                                pretrained=pretrained and weights is None, input_size=resize)
    if weights is not None:
        provenance = load_weights_file(module, Path(weights), num_classes=num_classes,
                                       heads=factory.classifier_prefixes(module),
                                       convert=factory.convert_state_dict)
    check_model(module, num_classes, input_size, name=label)
    return BuiltModel(module, input_size, mean, std, interpolation, provenance)


def ensure_pretrained_weights(spec: ModelSpec) -> None:
    """Make sure the spec's pretrained weights can be had, before any cell of a matrix starts."""
    try:
        factory_of(spec).ensure_weights(model_label(spec))
    except WeightsUnavailable as exc:
        raise exc.for_model(spec.name, model_label(spec)) from None


def parameter_count(spec: ModelSpec, num_classes: int = 5) -> int:
    """Count the parameters of the ``num_classes``-way model, built on the meta device."""
    return sizes(spec, num_classes)[0]


def sizes(spec: ModelSpec, num_classes: int = 5) -> tuple[int, int | None]:
    """Parameters of the ``num_classes``-way model and its embedding size, built on meta.

    The embedding is what a frozen-backbone probe reads: timm's pooled pre-logits
    (``head_hidden_size``, which ``num_features`` is where no pre-logits layer sits between),
    else the input width of the module's last linear layer; None without either.
    """
    import torch
    from torch import nn

    with torch.device("meta"):
        module, _ = _build(factory_of(spec), spec, num_classes, pretrained=False)
    parameters = sum(parameter.numel() for parameter in module.parameters())
    width = getattr(module, "head_hidden_size", None) or getattr(module, "num_features", None)
    if not isinstance(width, int):
        linears = [layer for layer in module.modules() if isinstance(layer, nn.Linear)]
        width = linears[-1].in_features if linears else None
    return parameters, width


def model_label(spec: ModelSpec) -> str:
    shown = f"model {spec.name!r}"
    if spec.display_name and spec.display_name.lower() not in spec.name.lower():
        shown += f" ({spec.display_name})"
    return shown


def _build(factory: ModelFactory, spec: ModelSpec, num_classes: int, *, pretrained: bool,
           input_size: int | None = None) -> tuple[Any, dict[str, Any]]:
    name, label = spec.name, model_label(spec)
    try:
        return factory.build(num_classes, pretrained, input_size)
    except WeightsUnavailable as exc:  # the plugin cannot know the name the user typed
        raise exc.for_model(name, label) from None
    except BenchError:
        raise
    except Exception as exc:  # a plugin's bug is named, not shown as a bare traceback
        raise PluginError(
            f"the factory of {label} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _call(spec: ModelSpec, num_classes: int, pretrained: bool) -> Any:
    if spec.resolve_argument is not None:
        raise RunError(f"{spec.name!r} is a family of models: {name_one(spec)}.")
    return spec.factory(num_classes, pretrained)


def check_model(module: Any, num_classes: int, input_size: int, *, name: str = "the model") -> None:
    """Raise :class:`bench.PluginError` unless ``module`` maps images to (N, num_classes) logits.

    Runs a batch of two in train and eval mode on the meta device (shapes only, no compute, no
    change to weights, buffers or random state); falls back to a real forward pass where a
    module cannot run on meta tensors.
    """
    import torch
    from torch import nn

    if not isinstance(module, nn.Module):
        raise PluginError(
            f"{name}: the factory returned {type(module).__name__}, expected a torch.nn.Module."
        )
    was_training = module.training
    try:
        for training in (True, False):
            module.train(training)
            output = _dry_forward(module, input_size, name)
            mode = "train" if training else "eval"
            if not isinstance(output, torch.Tensor):
                raise PluginError(
                    f"{name}: forward in {mode} mode returned {type(output).__name__}; expected "
                    f"one logits tensor of shape (N, {num_classes}). Drop auxiliary outputs "
                    f"(e.g. Inception's aux head) or return only the main logits."
                )
            if tuple(output.shape) != (2, num_classes):
                raise PluginError(
                    f"{name}: a batch of 2 images of {input_size}x{input_size} gave output of "
                    f"shape {tuple(output.shape)} in {mode} mode; expected (2, {num_classes}). "
                    f"The factory must build a classifier with num_classes outputs."
                )
    finally:
        module.train(was_training)


def _dry_forward(module: Any, input_size: int, name: str) -> Any:
    import torch
    from torch.func import functional_call

    state = [*module.named_parameters(), *module.named_buffers()]
    dtype = next((t.dtype for _, t in state if t.is_floating_point()), torch.float32)
    try:
        meta_state = {key: torch.empty_like(value, device="meta") for key, value in state}
        images = torch.empty(2, 3, input_size, input_size, dtype=dtype, device="meta")
        with torch.no_grad():
            return functional_call(module, meta_state, (images,))
    except Exception:  # some modules cannot run on meta tensors: try the real thing
        log.debug("meta forward of %s failed; checking with a real forward pass", name)
    device = next((t.device for _, t in state), torch.device("cpu"))
    saved_buffers = {key: value.clone() for key, value in module.named_buffers()}
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            images = torch.zeros(2, 3, input_size, input_size, dtype=dtype, device=device)
            return module(images)
    except Exception as exc:
        raise PluginError(
            f"{name}: forward pass on a batch of 2x3x{input_size}x{input_size} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    finally:
        with torch.no_grad():  # train-mode batch norm moved its running statistics: undo
            for key, value in module.named_buffers():
                value.copy_(saved_buffers[key])


__all__ = [
    "BuiltModel",
    "CallableFactory",
    "DataConfig",
    "ModelFactory",
    "build_model",
    "check_model",
    "data_config",
    "describe",
    "ensure_pretrained_weights",
    "factory_of",
    "model_label",
    "parameter_count",
    "sizes",
]
