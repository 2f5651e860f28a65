"""Turn a registered ``ModelSpec`` into a ready-to-train module, with weights whose origin is known.

Every architecture, first-party or third-party, goes through :func:`build_model`, so the engine
never needs a special case: the module returns plain ``(N, num_classes)`` logits in train and
eval mode (checked by :func:`check_model` before any training), and :func:`data_config` gives
the input size and normalisation it expects.

Pretrained weights come from, in order: a file the user names (``--weights``), the local
Hugging Face cache, the hub. When none is reachable the build fails with the three ways out;
it never falls back to random weights. ``BuiltModel.weights`` records what was used.

Importing this module stays cheap (no torch, no timm): plugins import it at discovery time.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError, PluginError, RunError, UnknownNameError
from bench.specs import ModelSpec

log = logging.getLogger(__name__)

SOURCES = ("file", "hf-cache", "hub", "torch-hub-cache", "plugin", "none")
# Keys of an auxiliary classifier (Inception-V3's ``AuxLogits``): trained on ImageNet, absent
# from the single-output model bench builds, so they are skipped rather than called a mismatch.
AUX_HEAD_PREFIXES = ("AuxLogits.", "aux_logits.", "aux_head.", "aux_classifier.")
# Wrappers that training scripts put around a state dict, unwrapped when reading a weights file.
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "module")
LISTED_KEYS = 8  # how many mismatching keys an error message shows before "and N more"


@dataclass
class BuiltModel:
    """A module ready for the engine, the preprocessing it expects, and where its weights came from.

    ``weights`` always has ``source`` (one of :data:`SOURCES`), ``tag`` (timm pretrained tag or
    None), ``file`` and ``sha256`` (of the weights file read, or None), plus ``notes``.
    """

    module: Any  # torch.nn.Module
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str
    weights: dict[str, Any] = field(default_factory=dict)


# -- timm-backed specs -----------------------------------------------------------------------


@dataclass(frozen=True)
class TimmFactory:
    """A ``ModelSpec`` factory backed by timm; :func:`build_model` also uses it to find weights.

    ``architecture`` is a timm name with its pretrained tag, e.g. ``"vgg19.tv_in1k"``. The model is
    made with ``timm.create_model(..., num_classes=n)``, so the ImageNet classifier is replaced by
    a fresh ``n``-way layer while every other layer keeps its pretrained weights.
    """

    architecture: str

    def __call__(self, num_classes: int, pretrained: bool) -> Any:
        return self.build(num_classes, pretrained)[0]

    def build(self, num_classes: int, pretrained: bool, label: str = "",
              input_size: int | None = None) -> tuple[Any, dict]:
        """Return the module and the provenance of its weights (hf-cache, hub or none).

        ``input_size`` rebuilds fixed-size architectures (ViT, Swin) for another input size;
        timm resamples their position embeddings when it loads pretrained weights.
        """
        if not pretrained:
            module = _create(self.architecture, input_size, pretrained=False,
                             num_classes=num_classes)
            return module, _provenance("none")
        cfg = _timm_pretrained_cfg(self.architecture)
        path, source, repo = _locate_timm_weights(cfg, self.architecture, label)
        # timm applies its own checkpoint conversion and drops the 1000-class head itself.
        module = _create(
            self.architecture, input_size, pretrained=True, num_classes=num_classes,
            pretrained_cfg_overlay={"file": str(path)},
        )
        note = f"{cfg.num_classes}-class ImageNet head replaced by a new {num_classes}-way layer"
        return module, _provenance(source, tag=self.architecture, path=path, repo=repo,
                                   notes=[note] if cfg.num_classes != num_classes else [])


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
                    **fields: Any) -> ModelSpec:
    """Describe a timm architecture; input size and normalisation will come from timm.

    Example: ``timm_model_spec("vgg19", "vgg19", "tv_in1k", display_name="VGG-19")``.
    """
    architecture = f"{timm_name}.{pretrained_tag}" if pretrained_tag else timm_name
    return ModelSpec(name=name, timm_name=timm_name, pretrained_tag=pretrained_tag,
                     factory=TimmFactory(architecture), **fields)


class UnknownTimmModelError(UnknownNameError):
    """A ``timm:<name>`` that timm does not know; suggests close names instead of listing ~1,400."""

    def __init__(self, name: str, suggestions: list[str], hint: str = "", what: str = "model"):
        message = f"timm has no {what} {name!r}."
        if suggestions:
            message += f" Did you mean: {', '.join(suggestions)}?"
        message += hint or (
            " Every name: python -c \"import timm; print(timm.list_models())\""
        )
        BenchError.__init__(self, message)
        self.kind, self.name, self.known, self.suggestions = "timm model", name, [], suggestions


def resolve_timm_spec(argument: str) -> ModelSpec:
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
    cfg = _timm_pretrained_cfg(argument)
    tag = tag or cfg.tag
    return timm_model_spec(
        f"timm:{argument}", timm_name, tag or None, display_name=timm_name,
        family="timm", description=f"timm's {timm_name}, any architecture timm knows",
    )


def _timm_pretrained_cfg(architecture: str) -> Any:
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


def timm_model(spec: ModelSpec) -> str | None:
    """Return the name ``timm.create_model`` gets for ``spec`` (``name.tag``); None if not timm."""
    if isinstance(spec.factory, TimmFactory):
        return spec.factory.architecture
    if spec.timm_name and spec.pretrained_tag and "." not in spec.timm_name:
        return f"{spec.timm_name}.{spec.pretrained_tag}"
    return spec.timm_name


# -- data configuration ------------------------------------------------------------------------


def data_config(spec: ModelSpec) -> tuple[int, tuple, tuple, str]:
    """Input size, mean, std and interpolation the model expects, without building it.

    timm models take them from timm's pretrained configuration; values the spec gives win.
    """
    architecture = timm_model(spec)
    explicit = (spec.input_size, spec.mean, spec.std)
    interpolation = getattr(spec, "interpolation", None)  # not every ModelSpec has the field
    if architecture and None in (*explicit, interpolation):
        from timm.data import resolve_data_config

        timm_config = resolve_data_config(
            pretrained_cfg=_timm_pretrained_cfg(architecture).to_dict()
        )
        _, height, width = timm_config["input_size"]
        if height != width and spec.input_size is None:
            raise RunError(
                f"model {spec.name!r} expects non-square {height}x{width} input; bench crops "
                f"square images. Register a spec with an explicit square input_size."
            )
        explicit = (
            spec.input_size or height,
            spec.mean or timm_config["mean"],
            spec.std or timm_config["std"],
        )
        interpolation = interpolation or timm_config["interpolation"]
    elif None in explicit:
        if spec.resolve_argument is not None:
            raise RunError(
                f"{spec.name!r} is a family of models, not one: name one as "
                f"{spec.name}:<name>, e.g. {spec.name}:resnet18."
            )
        missing = [n for n, v in zip(("input_size", "mean", "std"), explicit, strict=True)
                   if v is None]
        raise PluginError(
            f"model {spec.name!r} gives no {', '.join(missing)} and no timm_name to read them "
            f"from; its plugin must set input_size, mean and std on the ModelSpec."
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


# -- building ----------------------------------------------------------------------------------


def build_model(
    spec: ModelSpec,
    *,
    num_classes: int = 5,
    pretrained: bool = True,
    weights: Path | None = None,
    input_size: int | None = None,
) -> BuiltModel:
    """Build ``spec`` with a ``num_classes``-way head and checked weights, before any training.

    ``weights`` (a safetensors file or plain state dict) wins over ``pretrained``. Without it,
    ``pretrained=True`` needs the architecture's pretrained weights in the local Hugging Face
    cache or on the hub; failing both raises :class:`bench.RunError` naming the ways out.
    """
    native_size, mean, std, interpolation = data_config(spec)
    input_size = input_size or native_size
    resize = input_size if input_size != native_size else None
    label = _label(spec)
    if weights is not None:
        module = _construct(spec, num_classes, pretrained=False)
        provenance = load_weights_file(module, Path(weights), num_classes=num_classes)
    elif isinstance(spec.factory, TimmFactory):
        try:
            module, provenance = spec.factory.build(num_classes, pretrained, label=label,
                                                    input_size=resize)
        except BenchError:
            raise
        except Exception as exc:
            raise RunError(f"timm could not build {label}: {type(exc).__name__}: {exc}") from exc
    else:
        module = _construct(spec, num_classes, pretrained)
        # A third-party factory loads its own weights; bench can only record that it did.
        provenance = _provenance("plugin" if pretrained else "none",
                                 tag=spec.pretrained_tag if pretrained else None)
    check_model(module, num_classes, input_size, name=label)
    return BuiltModel(module, input_size, mean, std, interpolation, provenance)


def ensure_pretrained_weights(spec: ModelSpec) -> None:
    """Find (or fetch) a timm model's pretrained file now, so a matrix fails before any cell.

    Raises :class:`bench.RunError` with the three ways out when the weights cannot be had.
    Third-party factories load their own weights and are not checked here.
    """
    if isinstance(spec.factory, TimmFactory):
        architecture = spec.factory.architecture
        _locate_timm_weights(_timm_pretrained_cfg(architecture), architecture, _label(spec))


def _construct(spec: ModelSpec, num_classes: int, pretrained: bool) -> Any:
    try:
        return spec.factory(num_classes, pretrained)
    except BenchError:
        raise
    except Exception as exc:
        raise PluginError(
            f"the factory of model {spec.name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _label(spec: ModelSpec) -> str:
    shown = f"model {spec.name!r}"
    if spec.display_name and spec.display_name.lower() not in spec.name.lower():
        shown += f" ({spec.display_name})"
    return shown


def parameter_count(spec: ModelSpec, num_classes: int = 5) -> int:
    """Count the parameters of the ``num_classes``-way model, built on the meta device."""
    import torch

    with torch.device("meta"):
        module = _construct(spec, num_classes, pretrained=False)
    return sum(parameter.numel() for parameter in module.parameters())


# -- validation --------------------------------------------------------------------------------


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


# -- weights files -----------------------------------------------------------------------------


def load_weights_file(module: Any, path: Path, *, num_classes: int) -> dict[str, Any]:
    """Load a user's weights file into ``module`` strictly; return the provenance record.

    The only keys allowed to differ are a classifier head trained for another number of classes
    (ImageNet's 1000) and auxiliary heads: they are skipped and the record says so. Any other
    missing, unexpected or differently shaped key raises :class:`bench.RunError` listing them.
    """
    state = read_state_dict(path)
    expected = module.state_dict()
    heads = _classifier_prefixes(module)
    head_keys, aux_keys, unexpected, mismatched = [], [], [], []
    file_classes = None
    for key, tensor in state.items():
        if key not in expected:
            (aux_keys if key.startswith(AUX_HEAD_PREFIXES) else unexpected).append(key)
        elif tuple(tensor.shape) != tuple(expected[key].shape):
            if _is_head(key, tensor, expected[key], heads, num_classes):
                head_keys.append(key)
                file_classes = tensor.shape[0] if tensor.ndim else file_classes
            else:
                mismatched.append(
                    f"{key}: file {tuple(tensor.shape)}, model {tuple(expected[key].shape)}"
                )
    absent = [key for key in expected if key not in state]
    # Checkpoints saved before BatchNorm counted batches lack the counter; nothing is lost.
    missing = [key for key in absent
               if not key.endswith("num_batches_tracked") and not _under(key, heads)]
    if unexpected or mismatched or missing:
        raise RunError(_mismatch_message(path, type(module).__name__, missing, unexpected,
                                         mismatched))
    skipped = head_keys + aux_keys
    module.load_state_dict({k: v for k, v in state.items() if k in expected and k not in skipped},
                           strict=False)
    notes = []
    if head_keys:
        notes.append(f"skipped the file's {file_classes}-class classifier head "
                     f"({_shorten(head_keys)}); a new {num_classes}-way head is trained")
    elif any(_under(key, heads) for key in absent):
        notes.append(f"the file has no classifier head; a new {num_classes}-way head is trained")
    if aux_keys:
        notes.append(f"skipped the auxiliary head ({len(aux_keys)} keys: {_shorten(aux_keys)}), "
                     f"which the model does not have")
    for note in notes:
        log.warning("weights %s: %s", path, note)
    record = _provenance("file", path=path, notes=notes)
    record["skipped_keys"] = skipped
    return record


def read_state_dict(path: Path) -> dict[str, Any]:
    """Tensors from a safetensors file or a plain state dict, never unpickling arbitrary objects."""
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise RunError(f"weights file {path} does not exist (given with --weights).")
    try:
        if _is_safetensors(path):
            from safetensors.torch import load_file

            loaded: Any = load_file(str(path), device="cpu")
        else:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        text = str(exc).strip()
        detail = ("it holds pickled Python objects, not only tensors"
                  if text.startswith("Weights only load failed")
                  else f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}")
        raise RunError(
            f"cannot read weights file {path} ({detail}). Expected a "
            f".safetensors file or a state dict saved with torch.save(model.state_dict(), path); "
            f"pickled objects other than tensors are refused for safety."
        ) from exc
    state = _unwrap_state_dict(loaded)
    if state is None:
        raise RunError(
            f"weights file {path} holds {type(loaded).__name__}, not a state dict of tensors. "
            f"Save it with torch.save(model.state_dict(), path) or as safetensors."
        )
    prefix = "module."  # DataParallel / DistributedDataParallel wrappers
    if state and all(key.startswith(prefix) for key in state):
        state = {key[len(prefix):]: tensor for key, tensor in state.items()}
    return state


def _is_safetensors(path: Path) -> bool:
    if path.suffix == ".safetensors":
        return True
    # A safetensors file starts with an 8-byte header length and a JSON object.
    with path.open("rb") as handle:
        head = handle.read(9)
    return len(head) == 9 and head[8:9] == b"{"


def _unwrap_state_dict(loaded: Any) -> dict[str, Any] | None:
    import torch

    for _ in range(2):  # {"state_dict": {...}} or {"model": {"state_dict": ...}} at most
        if not isinstance(loaded, Mapping):
            return None
        if loaded and all(isinstance(value, torch.Tensor) for value in loaded.values()):
            return dict(loaded)
        inner = next((loaded[key] for key in CHECKPOINT_KEYS if key in loaded), None)
        if inner is None:
            return None
        loaded = inner
    return None


def _classifier_prefixes(module: Any) -> tuple[str, ...]:
    """Names of the classifier layers: timm says which; otherwise none are known."""
    cfg = getattr(module, "pretrained_cfg", None) or {}
    classifier = cfg.get("classifier") if isinstance(cfg, Mapping) else None
    if not classifier:
        return ()
    names = (classifier,) if isinstance(classifier, str) else tuple(classifier)
    return tuple(f"{name}." for name in names)


def _under(key: str, prefixes: tuple[str, ...]) -> bool:
    return bool(prefixes) and key.startswith(prefixes)


def _is_head(key: str, tensor: Any, wanted: Any, heads: tuple[str, ...], num_classes: int) -> bool:
    """Tell a classifier for another number of classes: named by timm, or by its shape."""
    if heads:
        return _under(key, heads)
    # No names to go by (a third-party module): the output layer is the one whose leading
    # dimension is num_classes, trained for another count, all other dimensions equal.
    return (wanted.ndim >= 1 and wanted.shape[0] == num_classes
            and tuple(tensor.shape[1:]) == tuple(wanted.shape[1:]))


def _mismatch_message(path: Path, architecture: str, missing: list[str], unexpected: list[str],
                      mismatched: list[str]) -> str:
    parts = [f"weights file {path} does not fit the {architecture} architecture."]
    if mismatched:
        parts.append(f"Shapes differ for {len(mismatched)} key(s): {_shorten(mismatched)}.")
    if missing:
        parts.append(f"Missing from the file: {len(missing)} key(s): {_shorten(missing)}.")
    if unexpected:
        parts.append(f"Not in the model: {len(unexpected)} key(s): {_shorten(unexpected)}.")
    parts.append("Use weights saved from the same architecture (the same timm name).")
    return " ".join(parts)


def _shorten(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED_KEYS])
    return shown + (f" and {len(items) - LISTED_KEYS} more" if len(items) > LISTED_KEYS else "")


# -- pretrained weight sources -----------------------------------------------------------------


def _locate_timm_weights(cfg: Any, architecture: str, label: str) -> tuple[Path, str, str | None]:
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
        raise RunError(_unreachable_message(label or architecture, architecture, why,
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
        raise RunError(_unreachable_message(label or architecture, architecture, why,
                                            f"from {cfg.url}",
                                            f"curl -L -o {cached} {cfg.url}", cached.parent))
    raise RunError(
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


def _provenance(source: str, *, tag: str | None = None, path: Path | None = None,
                repo: str | None = None, notes: list[str] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": source,
        "tag": tag,
        "file": str(Path(path).resolve()) if path else None,
        "sha256": file_sha256(path) if path else None,
        "notes": list(notes or []),
    }
    if repo:
        record["repo"] = repo
    return record


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks (pretrained files reach hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = [
    "SOURCES",
    "BuiltModel",
    "TimmFactory",
    "UnknownTimmModelError",
    "build_model",
    "check_model",
    "data_config",
    "file_sha256",
    "load_weights_file",
    "parameter_count",
    "read_state_dict",
    "resolve_timm_spec",
    "timm_model",
    "timm_model_spec",
]
