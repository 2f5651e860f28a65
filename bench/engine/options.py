"""Checks on the options of a run, made before any cell starts.

One place for `bench run`, `bench demo` and Python callers of
:func:`bench.engine.runner.run_benchmark`: a bad value is reported with the option that holds
it and a value that works, instead of as a failed cell (or a silently empty matrix) later.
Values are checked first (cheap, no torch), then what the machine must provide (the device,
the weights file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.engine.executors import executor_spec, resolve_options
from bench.errors import OptionError, RunError
from bench.protocols import BOUNDS, check_protocol

if TYPE_CHECKING:
    from bench.engine.request import RunRequest
    from bench.protocols import Protocol

MAX_SEED = 2**31 - 1  # numpy and torch generators take seeds up to this


@dataclass(frozen=True)
class Limit:
    """The sane range of one numeric option, and what the option counts."""

    low: int
    high: int
    what: str  # "the number of epochs", completed by "must lie between low and high"
    note: str = ""  # what a boundary value means, when not obvious


def _protocol_limit(key: str) -> Limit:
    """The limit of an option that overrides a protocol setting: the protocol's own bounds."""
    bounds = BOUNDS[key]
    return Limit(int(bounds.low), int(bounds.high), bounds.what)


LIMITS = {
    "--epochs": _protocol_limit("training.max_epochs"),
    "--batch-size": _protocol_limit("training.batch_size"),
    # The decoded cache is built between 8 and 2048 px (`bench datasets prepare --cache-size`).
    "--image-size": _protocol_limit("input.size"),
    "--workers": Limit(0, 256, "the number of data loader processes",
                       " (0 loads the data in this process)"),
    "--seeds": Limit(1, 10_000, "the number of seeds"),
}
SEED_FORMS = "`--seeds N` runs N seeds (0 .. N-1); `--seed 0,5,7` runs exactly the seeds listed"


def check_value(option: str, value: int | None) -> int | None:
    """Raise :class:`OptionError` when ``value`` lies outside ``LIMITS[option]``; None passes."""
    if value is None:
        return None
    limit = LIMITS[option]
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{option} {value!r}: {limit.what} is a whole number.")
    if not limit.low <= value <= limit.high:
        raise OptionError(f"{option} {value}: {limit.what} must lie between {limit.low} and "
                          f"{limit.high}{limit.note}.")
    return value


def check_run_options(*, epochs: int | None = None, batch_size: int | None = None,
                      image_size: int | None = None, workers: int | None = None) -> None:
    """Check the numeric overrides of a run; each error names the option."""
    for option, value in (("--epochs", epochs), ("--batch-size", batch_size),
                          ("--image-size", image_size), ("--workers", workers)):
        check_value(option, value)


def _integer(text: str, option: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise OptionError(f"{option} {text!r}: not a whole number. {SEED_FORMS}.") from None


def seeds_from(count: str | int | None = None, listed: str | None = None) -> list[int]:
    """The seeds a run uses: a count (``--seeds 3``: 0, 1, 2) or a list (``--seed 0,5,7``).

    The two forms are separate options so that ``0`` can never be read as "no seeds"; giving
    both, a count below one, a list in the count option or an empty list is an error.
    """
    if count is not None and listed is not None:
        raise OptionError(f"give --seeds or --seed, not both: {SEED_FORMS}.")
    if listed is not None:
        seeds = [_integer(part, "--seed") for part in str(listed).split(",") if part.strip()]
        if not seeds:
            raise OptionError(f"--seed {listed!r} lists no seed. {SEED_FORMS}.")
        bad = [seed for seed in seeds if not 0 <= seed <= MAX_SEED]
        if bad:
            raise OptionError(f"--seed {bad[0]}: a seed lies between 0 and {MAX_SEED}.")
        if len(set(seeds)) != len(seeds):
            raise OptionError(f"--seed {listed}: a seed is listed twice; each cell runs once.")
        return seeds
    if count is None:
        return [0]
    if isinstance(count, str) and "," in count:
        raise OptionError(f"--seeds {count}: --seeds takes a count; for a list of seeds use "
                          f"--seed {count}. {SEED_FORMS}.")
    number = _integer(count, "--seeds") if isinstance(count, str) else count
    if number < 1:
        raise OptionError(
            f"--seeds {number}: --seeds is a count and must be at least 1 "
            f"(for seed {number} alone use --seed {number}). {SEED_FORMS}."
            if number == 0 else f"--seeds {number}: a count must be at least 1. {SEED_FORMS}."
        )
    check_value("--seeds", number)
    return list(range(number))


def check_protocol_sizes(protocol: Protocol) -> None:
    """The values `--epochs`, `--batch-size` and `--image-size` end up in, for API callers."""
    training = protocol.training
    for option, value in (("--epochs", training.max_epochs),
                          ("--batch-size", training.batch_size)):
        check_value(option, value)
    if protocol.input.size != "model":
        check_value("--image-size", int(protocol.input.size))


def check_device(device: str) -> None:
    """Raise :class:`RunError` unless torch can use ``device`` here (auto always works)."""
    if device in ("auto", "cpu"):
        return
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        built = torch.version.cuda
        why = (f"this PyTorch is built for CUDA {built} but sees no GPU (driver, "
               f"CUDA_VISIBLE_DEVICES?)" if built else "this PyTorch is a CPU-only build")
        raise RunError(f"--device cuda: {why}. Use --device cpu, or --device auto to take a GPU "
                       f"when there is one.")
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise RunError("--device mps: Apple's Metal backend is not available here "
                           "(it needs macOS on Apple silicon). Use --device cpu or auto.")
    elif device not in ("cuda", "mps"):
        raise OptionError(f"--device {device!r}: use auto, cpu, cuda or mps.")


def check_weights(path: str | Path | None) -> None:
    """Raise unless ``path`` is a readable file of tensors (read with the loader runs use)."""
    if path is None:
        return
    from bench.weights import read_state_dict

    file = Path(path).expanduser()
    if file.is_dir():
        raise OptionError(f"--weights {file}: is a folder; give the weights file itself "
                          f"(.safetensors or a state dict saved with torch.save).")
    if not file.exists():
        raise OptionError(f"--weights {file}: no such file. Give the path of a .safetensors "
                          f"file or a saved state dict, or leave --weights out to use the "
                          f"pretrained weights of each model.")
    try:
        with file.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise RunError(f"--weights {file}: cannot be read ({exc.strerror}).") from exc
    if not head:
        raise RunError(f"--weights {file}: the file is empty (an interrupted download or "
                       f"save?). Save the weights again.")
    if not _looks_like_weights(head):
        raise RunError(f"--weights {file}: not a weights file (neither safetensors nor "
                       f"torch.save's format). {WEIGHT_FORMATS}")
    read_state_dict(file)  # raises RunError naming what the file holds instead


WEIGHT_FORMATS = ("Give a .safetensors file or a state dict saved with "
                  "torch.save(model.state_dict(), path).")


def _looks_like_weights(head: bytes) -> bool:
    """Whether a file starts as safetensors, a torch.save zip or a pickle does."""
    zipped = head.startswith(b"PK\x03\x04")
    pickled = len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5
    safetensors = len(head) > 8 and head[8:9] == b"{"
    return zipped or pickled or safetensors


NAME_HINTS = {"--model": "`bench models list`", "--source": "`bench datasets list`",
              "--target": "`bench datasets list`"}


def check_names(option: str, values: Sequence[str]) -> None:
    """Raise when an option's names are all empty (``--model ""``, ``--source ,``)."""
    if not any(part.strip() for value in values for part in str(value).split(",")):
        raise OptionError(f"{option} {','.join(map(str, values))!r} names nothing: give a name, "
                          f"a comma list or all ({NAME_HINTS[option]} shows the names).")


def check_sources_unshifted(sources: Sequence[str]) -> None:
    """A shifted set (NAME~SHIFT:LEVEL) is a test split only: refuse it as training data."""
    for part in (p.strip() for value in sources for p in str(value).split(",")):
        if "~" in part:
            base = part.partition("~")[0]
            raise OptionError(
                f"--source {part}: a shifted data set has only a test split and is never "
                f"trained on. Train on the data set itself and test on the shift: "
                f"--source {base} --target {part}."
            )


def preflight(request: RunRequest) -> None:
    """Every check that needs no data set: names, values, seeds, device, weights file."""
    for option, values in (("--model", request.models), ("--source", request.sources),
                           ("--target", request.targets)):
        check_names(option, values)
    check_sources_unshifted(request.sources)
    if not list(request.seeds):
        raise OptionError(f"no seeds to run, so no cell is selected. {SEED_FORMS}.")
    for seed in request.seeds:
        if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed <= MAX_SEED:
            raise OptionError(f"seed {seed!r}: a seed is a whole number from 0 to {MAX_SEED}.")
    check_protocol_sizes(request.protocol)  # named by the options that set them
    check_protocol(request.protocol)  # every other value, for a protocol made in code
    if request.shots:  # what --shots accepts, for API callers too
        from bench.engine.few_shot import parse_shots

        parse_shots(",".join(str(shots) for shots in request.shots))
    check_value("--workers", request.workers)
    check_executor(request.executor, request.executor_options, request.device)
    check_weights(request.weights)


def check_executor(name: str, options: Mapping[str, Any] | None, device: str) -> None:
    """The executor's name and options (from its row of the table), then what it needs here.

    The device is checked here only for cells trained here: a Ray or Slurm cell runs on
    another machine, which checks its own.
    """
    spec = executor_spec(name)
    resolved = resolve_options(name, options)
    if spec.trains_here:
        check_device(device)
    if spec.check_here is not None:
        spec.check_here(resolved, device)


def check_one_architecture(weights: str | Path | None, models: Sequence[str]) -> None:
    """One weights file holds one architecture's tensors: refuse it for several models."""
    if weights and len(models) > 1:
        raise OptionError(
            f"--weights {weights} holds the weights of one architecture, but {len(models)} "
            f"models are selected ({', '.join(models)}); run them one at a time."
        )
