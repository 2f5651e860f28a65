"""timm as a model backend: any timm architecture, its preprocessing and its pretrained weights.

Pretrained weights come from, in order: a file the user names (``--weights``, loaded by the
core), the local Hugging Face cache, the hub (or torch hub for the few timm configs that only
have a URL). When none is reachable the run stops before training with the three ways out; it
never falls back to random weights.

Importing this module stays cheap: timm is imported inside the functions.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench


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
            return module, bench.weights_record("none")
        cfg = pretrained_cfg(self.architecture)
        path, source, repo = locate_weights(cfg, self.architecture, self.label)
        # timm applies its own checkpoint conversion and drops the 1000-class head itself.
        module = _create(
            self.architecture, input_size, pretrained=True, num_classes=num_classes,
            pretrained_cfg_overlay={"file": str(path)},
        )
        note = f"{cfg.num_classes}-class ImageNet head replaced by a new {num_classes}-way layer"
        return module, bench.weights_record(source, tag=self.architecture, path=path, repo=repo,
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
        locate_weights(pretrained_cfg(self.architecture), self.architecture, label)

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

    Example: ``timm_model_spec("vgg19", "vgg19", "tv_in1k", display_name="VGG-19")``.
    """
    architecture = f"{timm_name}.{pretrained_tag}" if pretrained_tag else timm_name
    display = fields.get("display_name", "")
    label = f"model {name!r}" + (f" ({display})" if display and display.lower() not in name else "")
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


def locate_weights(cfg: Any, architecture: str, label: str) -> tuple[Path, str, str | None]:
    """Find timm's pretrained file in the HF cache, else fetch it from the hub."""
    offline = _hf_offline()
    if cfg.hf_hub_id:
        repo, _, revision = cfg.hf_hub_id.partition("@")
        filenames = ([cfg.hf_hub_filename] if cfg.hf_hub_filename
                     else ["model.safetensors", "pytorch_model.bin"])  # timm's own preference
        cache = _hf_cache_dir()
        found = _from_hf_cache(repo, filenames, revision or None, cache)
        if found:
            return found, "hf-cache", repo
        why = "HF_HUB_OFFLINE is set"
        if not offline:
            try:
                return _from_hub(repo, filenames, revision or None, cache), "hub", repo
            except Exception as exc:  # network down, repo gone, gated: all end the same way
                why = f"the hub could not be reached ({type(exc).__name__}: {exc})"
        raise bench.RunError(_unreachable_message(label or architecture, architecture, why,
                                            f"{filenames[0]} of the Hugging Face repo {repo}",
                                            f"hf download {repo} {filenames[0]}", cache))
    if cfg.url:
        import torch.hub

        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(cfg.url.split("?")[0]).name
        if cached.is_file():
            return cached, "torch-hub-cache", None
        why = "HF_HUB_OFFLINE is set"
        if not offline:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                torch.hub.download_url_to_file(cfg.url, str(cached))
                return cached, "hub", None
            except Exception as exc:
                why = f"the download failed ({type(exc).__name__}: {exc})"
        raise bench.RunError(_unreachable_message(label or architecture, architecture, why,
                                            f"from {cfg.url}",
                                            f"curl -L -o {cached} {cfg.url}", cached.parent))
    raise bench.RunError(
        f"{label or architecture}: timm has no pretrained weights for {architecture}. "
        f"Give a weights file with --weights PATH, or train from scratch with --no-pretrained."
    )


def _from_hf_cache(repo: str, filenames: list[str], revision: str | None,
                   cache: Path) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    for filename in filenames:
        found = try_to_load_from_cache(repo, filename, cache_dir=cache, revision=revision)
        if isinstance(found, str):  # otherwise None or a "known not to exist" marker
            return Path(found)
    return None


def _from_hub(repo: str, filenames: list[str], revision: str | None, cache: Path) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    for filename in filenames[:-1]:
        try:
            return Path(hf_hub_download(repo, filename, revision=revision, cache_dir=cache))
        except EntryNotFoundError as exc:
            if isinstance(exc, LocalEntryNotFoundError):  # the hub is unreachable: stop here
                raise
            # the repo has no such file: try the next name
    return Path(hf_hub_download(repo, filenames[-1], revision=revision, cache_dir=cache))


def _hf_offline() -> bool:
    """Read at call time: huggingface_hub reads HF_HUB_OFFLINE only once, at import."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "").strip().upper()
    return value in {"1", "ON", "YES", "TRUE"} or bool(constants.HF_HUB_OFFLINE)


def _hf_cache_dir() -> Path:
    """Return the hub cache as the environment says now (HF_HUB_CACHE, then HF_HOME/hub)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _unreachable_message(label: str, architecture: str, why: str, wanted: str, fetch: str,
                         cache: Path) -> str:
    return (
        f"{label} needs the pretrained weights timm {architecture} ({wanted}), but they are not "
        f"in the local cache {cache} and {why}. Nothing was trained. Three ways out: "
        f"(1) --weights PATH: a local copy of those weights (safetensors or a plain state dict); "
        f"(2) warm the cache on a machine with internet: `{fetch}`, then copy that cache folder "
        f"to {cache} here (or point HF_HOME at a copy); (3) --no-pretrained: random "
        f"initialisation, which departs from the protocol's ImageNet pretraining."
    )
