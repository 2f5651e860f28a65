"""Weights files: read a user's ``--weights`` file safely, load it strictly, record its origin.

A file is read as safetensors or as a state dict with ``torch.load(weights_only=True)``: nothing
on disk is ever unpickled into arbitrary objects. Importing this module does not import torch.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench.errors import RunError

log = logging.getLogger(__name__)

# Where a run's weights came from; a model factory reports one of these.
SOURCES = ("file", "weights-folder", "hf-cache", "hub", "torch-hub-cache", "plugin", "none")
# Keys of an auxiliary classifier (Inception-V3's ``AuxLogits``): trained on ImageNet, absent
# from the single-output model bench builds, so they are skipped rather than called a mismatch.
AUX_HEAD_PREFIXES = ("AuxLogits.", "aux_logits.", "aux_head.", "aux_classifier.")
# Wrappers that training scripts put around a state dict, unwrapped when reading a weights file
# (``teacher``: the model a DINO-style self-supervised checkpoint publishes).
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "module", "teacher")
LISTED_KEYS = 8  # how many mismatching keys an error message shows before "and N more"


def load_weights_file(module: Any, path: Path, *, num_classes: int,
                      heads: tuple[str, ...] = (),
                      convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None
                      ) -> dict[str, Any]:
    """Load a user's weights file into ``module`` strictly; return the provenance record.

    The only keys allowed to differ are a classifier head trained for another number of classes
    (ImageNet's 1000) and auxiliary heads: they are skipped and the record says so. Any other
    missing, unexpected or differently shaped key raises :class:`bench.RunError` listing them.
    ``heads`` names the classifier layers (``("fc.",)``) where the model's factory knows them;
    otherwise the head is told by its shape. ``convert`` maps a publisher's key layout onto the
    module's first (``bench.ModelFactory.convert_state_dict``).
    """
    state = read_state_dict(path)
    if convert is not None:
        state = convert(state)
    expected = module.state_dict()
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
    record = weights_record("file", path=path, notes=notes)
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


def _under(key: str, prefixes: tuple[str, ...]) -> bool:
    return bool(prefixes) and key.startswith(prefixes)


def _is_head(key: str, tensor: Any, wanted: Any, heads: tuple[str, ...], num_classes: int) -> bool:
    """Tell a classifier for another number of classes: named by the factory, or by its shape."""
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
    parts.append("Use weights saved from the same architecture.")
    return " ".join(parts)


def _shorten(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED_KEYS])
    return shown + (f" and {len(items) - LISTED_KEYS} more" if len(items) > LISTED_KEYS else "")


def weights_record(source: str, *, tag: str | None = None, path: Path | None = None,
                   repo: str | None = None, notes: list[str] | None = None) -> dict[str, Any]:
    """The provenance a run records for its weights: source, tag, file and its SHA-256, notes.

    ``source`` is one of :data:`SOURCES`; a model factory returns this from ``build``.
    """
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


PRETRAINED, SCRATCH = "pretrained", "scratch"  # a cell's initialisation, besides "weights:<sha>"


def initialisation(pretrained: bool, weights: str | Path | None) -> str:
    """What a cell starts from, as its identity records it.

    ``pretrained`` (the model's own pretrained weights), ``scratch`` (random weights) or
    ``weights:<first 12 hex digits of the file's SHA-256>``: the file wins over ``pretrained``,
    as in :func:`bench.models.build_model`.
    """
    if weights:
        return f"weights:{file_sha256(Path(weights).expanduser())[:12]}"
    return PRETRAINED if pretrained else SCRATCH


def describe_initialisation(init: str) -> str:
    """The words a board header or a listing uses for an initialisation."""
    if init.startswith("weights:"):
        return f"weights file sha256 {init.partition(':')[2]}"
    return {PRETRAINED: "pretrained weights", SCRATCH: "from scratch"}.get(init, init)
