"""timm as a model backend: any timm architecture, its preprocessing and its pretrained weights.

Pretrained weights come from, in order: a file the user names (``--weights``, loaded by the
core), then wherever :func:`bench.kit.pretrained_file` finds timm's file (the weights folder, the
local Hugging Face cache, torch hub's cache for the few configs that only have a URL, the hub).
When none has it the run stops before training with the three ways out; it never falls back to
random weights. ``hf-hub:<org>/<repo>`` builds a model pushed to the hub with timm (its
``config.json`` says the architecture and preprocessing), found the same way.

Importing this module stays cheap: timm is imported inside the functions.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import bench

# What timm's pretrained tags say the weights were trained on (``augreg2_in21k_ft_in1k``: first
# ImageNet-21k, then ImageNet-1k). ImageNet-22k is the full ImageNet, the 21k of other papers.
TAG_DATA = {
    "in1k": "ImageNet-1k", "in21k": "ImageNet-21k", "in22k": "ImageNet-21k",
    "in12k": "ImageNet-12k", "lvd142m": "LVD-142M", "laion2b": "LAION-2B",
    "laion400m": "LAION-400M", "openai": "OpenAI WIT-400M", "dfn2b": "DFN-2B",
    "datacompxl": "DataComp-XL", "merged2b": "Merged-2B", "ig1b": "Instagram-1B",
    "yfcc100m": "YFCC100M", "cc12m": "CC12M", "webli": "WebLI", "jft300m": "JFT-300M",
}


def pretraining_of_tag(tag: str | None) -> tuple[str, ...] | None:
    """The data sets a timm pretrained tag names, in training order; None when it names none."""
    found = [TAG_DATA[part] for part in (tag or "").split("_") if part in TAG_DATA]
    return tuple(dict.fromkeys(found)) or None


@dataclass(frozen=True)
class TimmFactory(bench.ModelFactory):
    """A model backed by timm: preprocessing and pretrained weights come from timm's config.

    ``architecture`` is a timm name with its pretrained tag, e.g. ``"vgg19.tv_in1k"``. The model is
    made with ``timm.create_model(..., num_classes=n)``, so the ImageNet classifier is replaced by
    a fresh ``n``-way layer while every other layer keeps its pretrained weights.
    """

    architecture: str
    label: str = ""  # how error messages name the model, e.g. "model 'vgg19' (VGG-19)"

    def __call__(self, num_classes: int, pretrained: bool) -> Any:
        return self.build(num_classes, pretrained)[0]

    def build(self, num_classes: int, pretrained: bool,
              input_size: int | None = None) -> tuple[Any, dict]:
        """Return the module and the provenance of its weights (hf-cache, hub or none).

        ``input_size`` rebuilds fixed-size architectures (ViT, Swin) for another input size;
        timm resamples their position embeddings when it loads pretrained weights.
        """
        try:
            return self._build(num_classes, pretrained, input_size)
        except bench.BenchError:
            raise
        except Exception as exc:
            raise bench.RunError(
                f"timm could not build {self.label or self.architecture}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _build(self, num_classes: int, pretrained: bool, input_size: int | None):
        if not pretrained:
            module = _create(self.architecture, input_size, pretrained=False,
                             num_classes=num_classes)
            return module, bench.kit.weights_record("none")
        cfg = pretrained_cfg(self.architecture)
        wanted = _weight_file(cfg, self.architecture, self.label)
        path, source = bench.kit.pretrained_file(wanted)
        # timm applies its own checkpoint conversion and drops the 1000-class head itself.
        module = _create(
            self.architecture, input_size, pretrained=True, num_classes=num_classes,
            pretrained_cfg_overlay={"file": str(path)},
        )
        note = f"{cfg.num_classes}-class ImageNet head replaced by a new {num_classes}-way layer"
        return module, bench.kit.weights_record(source, tag=self.architecture, path=path,
                                            repo=wanted.repo or None,
                                            notes=[note] if cfg.num_classes != num_classes else [])

    def data_config(self) -> bench.DataConfig:
        from timm.data import resolve_data_config

        config = resolve_data_config(pretrained_cfg=pretrained_cfg(self.architecture).to_dict())
        _, height, width = config["input_size"]
        if height != width:
            raise bench.RunError(
                f"{self.label or self.architecture} expects non-square {height}x{width} input; "
                f"bench crops square images. Register a spec with an explicit square input_size."
            )
        return bench.DataConfig(height, tuple(config["mean"]), tuple(config["std"]),
                                config["interpolation"])

    def ensure_weights(self, label: str) -> None:
        bench.kit.pretrained_file(_weight_file(pretrained_cfg(self.architecture), self.architecture,
                                           label))

    def weight_files(self) -> list[bench.WeightFile]:
        return [_weight_file(pretrained_cfg(self.architecture), self.architecture, self.label)]

    def classifier_prefixes(self, module: Any) -> tuple[str, ...]:
        """Timm names its classifier layers in the model's pretrained config."""
        cfg = getattr(module, "pretrained_cfg", None) or {}
        classifier = cfg.get("classifier") if isinstance(cfg, Mapping) else None
        if not classifier:
            return ()
        names = (classifier,) if isinstance(classifier, str) else tuple(classifier)
        return tuple(f"{name}." for name in names)

    def describe(self) -> dict[str, str | None]:
        name, _, tag = self.architecture.partition(".")
        return {"architecture": name, "weights": tag or None}


def _create(architecture: str, input_size: int | None, **kwargs: Any) -> Any:
    """``timm.create_model``, passing ``img_size`` only to architectures that take it."""
    import timm

    if input_size is not None:
        try:
            return timm.create_model(architecture, img_size=input_size, **kwargs)
        except TypeError as exc:
            if "img_size" not in str(exc):
                raise
    return timm.create_model(architecture, **kwargs)


def timm_model_spec(name: str, timm_name: str, pretrained_tag: str | None = None,
                    **fields: Any) -> bench.ModelSpec:
    """Describe a timm architecture; input size and normalisation will come from timm.

    ``pretraining_data`` defaults to what the tag names (``tv_in1k``: ImageNet-1k).
    Example: ``timm_model_spec("vgg19", "vgg19", "tv_in1k", display_name="VGG-19")``.
    """
    architecture = f"{timm_name}.{pretrained_tag}" if pretrained_tag else timm_name
    display = fields.get("display_name", "")
    label = f"model {name!r}" + (f" ({display})" if display and display.lower() not in name else "")
    fields.setdefault("pretraining_data", pretraining_of_tag(pretrained_tag))
    return bench.ModelSpec(name=name, factory=TimmFactory(architecture, label), **fields)


class UnknownTimmModelError(bench.UnknownNameError):
    """A ``timm:<name>`` that timm does not know; suggests close names instead of listing ~1,400."""

    def __init__(self, name: str, suggestions: list[str], hint: str = "", what: str = "model"):
        message = f"timm has no {what} {name!r}."
        if suggestions:
            message += f" Did you mean: {', '.join(suggestions)}?"
        message += hint or (
            " Every name: python -c \"import timm; print(timm.list_models())\""
        )
        bench.BenchError.__init__(self, message)
        self.kind, self.name, self.known, self.suggestions = "timm model", name, [], suggestions


def resolve_timm_spec(argument: str) -> bench.ModelSpec:
    """Make the spec for ``timm:<name>`` or ``timm:<name>.<tag>``; unknown names get suggestions."""
    import timm

    argument = argument.strip().lower()
    if not argument:
        raise UnknownTimmModelError("", [], " Name one, e.g. timm:resnet18 or timm:test_vit.")
    timm_name, _, tag = argument.partition(".")
    known = timm.list_models()
    if timm_name not in known:
        close = difflib.get_close_matches(timm_name, known, n=5, cutoff=0.6)
        contained = [n for n in known if timm_name in n and n not in close][: 5 - len(close)]
        raise UnknownTimmModelError(timm_name, close + contained)
    cfg = pretrained_cfg(argument)
    tag = tag or cfg.tag
    return timm_model_spec(
        f"timm:{argument}", timm_name, tag or None, display_name=timm_name,
        family="timm", description=f"timm's {timm_name}, any architecture timm knows",
    )


def pretrained_cfg(architecture: str) -> Any:
    """Return timm's pretrained configuration (input size, normalisation, weight location)."""
    from timm.models import get_pretrained_cfg, list_pretrained

    try:
        cfg = get_pretrained_cfg(architecture)
    except RuntimeError as exc:  # timm's way of saying the tag is unknown
        arch = architecture.partition(".")[0]
        tags = [name.partition(".")[2] for name in list_pretrained(f"{arch}.*")]
        raise UnknownTimmModelError(
            architecture, [], f" The tags {arch} has: {', '.join(tags) or '(none)'}.",
            what="pretrained weights",
        ) from exc
    if cfg is None:
        raise UnknownTimmModelError(architecture, [])
    return cfg


def _weight_file(cfg: Any, architecture: str, label: str) -> bench.WeightFile:
    """The file timm's config points at: a Hugging Face repo file, else a plain URL."""
    if cfg.hf_hub_id:
        repo, _, revision = cfg.hf_hub_id.partition("@")
        filenames = ((cfg.hf_hub_filename,) if cfg.hf_hub_filename
                     else ("model.safetensors", "pytorch_model.bin"))  # timm's own preference
        return bench.WeightFile(repo=repo, filenames=filenames, revision=revision or None)
    if cfg.url:
        return bench.WeightFile(url=cfg.url)
    raise bench.RunError(
        f"{label or architecture}: timm has no pretrained weights for {architecture}. "
        f"Give a weights file with --weights PATH, or train from scratch with --no-pretrained."
    )


HUB_PREFIX = "hf-hub"
HUB_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class HubTimmFactory(bench.ModelFactory):
    """A timm model pushed to the Hugging Face hub: ``config.json`` plus its weights file.

    Both files are found like any pretrained file (weights folder, cache, hub), so a model
    named ``hf-hub:<org>/<repo>`` works offline once `bench weights download` has fetched it.
    """

    repo: str
    revision: str | None = None
    _config: dict = field(default_factory=dict, compare=False, repr=False)

    def files(self) -> tuple[bench.WeightFile, bench.WeightFile]:
        return (bench.WeightFile(repo=self.repo, filenames=("config.json",),
                                 revision=self.revision),
                bench.WeightFile(repo=self.repo, filenames=HUB_WEIGHTS, revision=self.revision))

    def config(self) -> dict:
        """The repo's ``config.json`` as timm reads it: pretrained cfg, architecture, arguments."""
        if not self._config:
            from timm.models._hub import load_model_config_from_path

            path, _ = bench.kit.pretrained_file(self.files()[0])
            pretrained, architecture, arguments = load_model_config_from_path(path.parent)
            self._config.update(pretrained=pretrained, architecture=architecture,
                                arguments=arguments)
        return self._config

    def build(self, num_classes: int, pretrained: bool,
              input_size: int | None = None) -> tuple[Any, dict]:
        config = self.config()
        arguments = dict(config["arguments"])
        if not pretrained:
            module = _create(config["architecture"], input_size, num_classes=num_classes,
                             pretrained=False, **arguments)
            return module, bench.kit.weights_record("none")
        path, source = bench.kit.pretrained_file(self.files()[1])
        module = _create(config["architecture"], input_size, num_classes=num_classes,
                         pretrained=True, pretrained_cfg={**config["pretrained"],
                                                          "file": str(path), "source": ""},
                         **arguments)
        return module, bench.kit.weights_record(source, tag=f"{HUB_PREFIX}:{self.repo}", path=path,
                                            repo=self.repo)

    def data_config(self) -> bench.DataConfig:
        from timm.data import resolve_data_config

        config = resolve_data_config(pretrained_cfg=self.config()["pretrained"])
        return bench.DataConfig(config["input_size"][1], tuple(config["mean"]),
                                tuple(config["std"]), config["interpolation"])

    def ensure_weights(self, label: str) -> None:
        for file in self.files():
            bench.kit.pretrained_file(file)

    def weight_files(self) -> list[bench.WeightFile]:
        return list(self.files())

    def classifier_prefixes(self, module: Any) -> tuple[str, ...]:
        return TimmFactory.classifier_prefixes(self, module)  # type: ignore[arg-type]

    def describe(self) -> dict[str, str | None]:
        return {"architecture": self._config.get("architecture"),
                "weights": f"{HUB_PREFIX}:{self.repo}"}


def resolve_hub_spec(argument: str) -> bench.ModelSpec:
    """The spec for ``hf-hub:<org>/<repo>[@revision]``: nothing is fetched until it is used."""
    repo, _, revision = argument.strip().partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise bench.UnknownNameError("model", f"{HUB_PREFIX}:{argument}", [
            f"{HUB_PREFIX}:<org>/<repo>, e.g. {HUB_PREFIX}:timm/resnet18.a1_in1k"])
    return bench.ModelSpec(
        name=f"{HUB_PREFIX}:{repo}" + (f"@{revision}" if revision else ""), display_name=repo,
        family="timm", factory=HubTimmFactory(repo, revision or None),
        description=f"the timm model {repo} from the Hugging Face hub",
    )
