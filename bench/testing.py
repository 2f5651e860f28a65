"""Contract checks every registered model, data set and generator must pass.

For plugin authors: run them in your own tests, as bench runs them over everything its
registry holds (``tests/test_contracts.py``)::

    import bench, bench.testing

    def test_my_model_honours_the_contract():
        bench.testing.check_model(bench.get_registries().models.get("my-net"))

Each check raises :class:`ContractError` with every broken rule of that spec listed, so a
failing test says what to fix. The checks build models without pretrained weights, touch no
network and write nothing outside a temporary folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.labels import CLASSES, NUM_CLASSES
from bench.specs import DatasetSpec, GeneratorSpec, ModelSpec, SourceImage


class ContractError(AssertionError):
    """A spec breaks the plugin contract; the message lists every broken rule."""


def _raise(name: str, problems: list[str]) -> None:
    if problems:
        raise ContractError(f"{name} breaks the plugin contract:\n- " + "\n- ".join(problems))


# Above this many parameters a model is checked on the meta device (shapes, no memory) instead
# of training one step: DinoBloom-G's 1.1 billion would need some 10 GB of RAM on a CPU.
TRAIN_CHECK_LIMIT = 100_000_000


def check_model(spec: ModelSpec, *, num_classes: int = NUM_CLASSES, batch: int = 2,
                input_size: int | None = None, train_step: bool | None = None) -> dict[str, Any]:
    """Build ``spec`` for ``num_classes`` without pretrained weights, then train one step.

    Checks: the data config is complete (square size, three-value mean and std), the module
    maps a batch at its input size (or ``input_size``) to ``(batch, num_classes)`` logits in
    train and eval mode, and a backward pass reaches every trainable parameter of the head.
    ``train_step`` None: only models of at most :data:`TRAIN_CHECK_LIMIT` parameters train the
    step; larger ones are built and checked on the meta device. Returns the data config, the
    parameter count and ``trained`` (whether the step ran).
    """
    import torch

    from bench.models import build_model, data_config, parameter_count

    name = f"model {spec.name!r}"
    problems = spec.problems()
    try:
        native, mean, std, interpolation = data_config(spec)
        parameters = parameter_count(spec, num_classes)
        if train_step is None:
            train_step = parameters <= TRAIN_CHECK_LIMIT
        with torch.device("cpu" if train_step else "meta"):
            built = build_model(spec, num_classes=num_classes, pretrained=False,
                                input_size=input_size)
    except BenchError as exc:
        _raise(name, [*problems, str(exc)])
        raise  # unreachable: _raise raised
    if not train_step:  # build_model checked the logits' shape in both modes on meta tensors
        _raise(name, problems)
        return {"input_size": native, "mean": mean, "std": std, "interpolation": interpolation,
                "parameters": parameters, "trained": False}
    size = built.input_size
    module = built.module
    module.train()
    images = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(0))
    logits = module(images)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (batch, num_classes):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits)
        problems.append(f"train-mode forward gave {shape}, expected ({batch}, {num_classes})")
    else:
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(batch) % num_classes)
        loss.backward()
        trainable = [p for p in module.parameters() if p.requires_grad]
        if not trainable:
            problems.append("the module has no trainable parameters")
        elif all(p.grad is None or not torch.any(p.grad != 0) for p in trainable):
            problems.append("a backward pass gave no gradient to any parameter")
        if not torch.isfinite(loss):
            problems.append(f"the loss of one random batch is {loss.item()}")
    module.eval()
    with torch.no_grad():
        output = module(images)
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (batch, num_classes):
        problems.append(f"eval-mode forward gave {getattr(output, 'shape', type(output))}")
    _raise(name, problems)
    return {"input_size": native, "mean": mean, "std": std, "interpolation": interpolation,
            "parameters": sum(p.numel() for p in module.parameters()), "trained": True}


def check_dataset(spec: DatasetSpec, root: Path | None = None) -> list[SourceImage]:
    """Check a data set spec, and its ``scan`` on ``root`` (a tiny copy of the download) if given.

    Checks: the class map sends every class to one of L, M, N, E, B or None, and the scan
    returns :class:`bench.SourceImage` rows with unique POSIX relative paths of existing files,
    classes the class map knows, and an official split where the split policy needs one.
    """
    from bench.data.classes import ClassMapper

    name = f"data set {spec.name!r}"
    problems = spec.problems()
    _raise(name, problems)
    if root is None:
        return []
    try:
        images = list(spec.scan(Path(root)))
    except BenchError as exc:
        _raise(name, [f"scan({root}) raised: {exc}"])
        raise
    mapper = ClassMapper(spec.class_map)
    if not images:
        problems.append(f"scan({root}) found no images")
    seen: set[str] = set()
    for image in images:
        where = f"scan row {getattr(image, 'relpath', image)!r}"
        if not isinstance(image, SourceImage):
            problems.append(f"{where}: not a bench.SourceImage")
            continue
        if "\\" in image.relpath or image.relpath.startswith("/"):
            problems.append(f"{where}: relpath must be relative POSIX")
        if image.relpath in seen:
            problems.append(f"{where}: relpath appears twice")
        seen.add(image.relpath)
        if not Path(image.path).is_file():
            problems.append(f"{where}: {image.path} is not a file")
        if not mapper.knows(image.source_class):
            problems.append(f"{where}: class {image.source_class!r} is not in the class map")
        if spec.split_policy == "official_test" and image.official_split not in ("train", "test"):
            problems.append(f"{where}: official_split must be train or test for the "
                            f"official_test policy, got {image.official_split!r}")
    _raise(name, problems[:20])
    return images


def check_generator(spec: GeneratorSpec, *, labels: Iterable[str] | None = None,
                    count: int = 2, options: dict[str, Any] | None = None) -> None:
    """Check a generator: cells of the declared labels, deterministic, partitions apart.

    A *cells* generator must return ``count`` uint8 images (H, W, 3 or 4) per label, the same
    ones when asked again with the same seed, and other ones for the other partition. A
    trainable generator that has no trained model yet is checked for its interface only. A
    *compositor* must compose a tiny data set from the default cells generator's cells.
    """
    import numpy as np

    from bench.generation.contract import CELL_LABELS, TrainableCellGenerator, cell_generator

    name = f"generator {spec.name!r}"
    _raise(name, spec.problems())
    if spec.kind == "compositor":
        _check_compositor(spec, options or {})
        return
    generator = cell_generator(spec.name, **(options or {}))
    if spec.trainable:
        if not isinstance(generator, TrainableCellGenerator):
            _raise(name, ["declared trainable, but it has no train(label, images, partition=)"
                          " and trained()"])
        if not generator.trained():
            return  # nothing to draw from until it is trained
    problems = []
    for label in labels or CELL_LABELS:
        first = generator.generate(label, count, partition="A", seed=0)
        again = generator.generate(label, count, partition="A", seed=0)
        other = generator.generate(label, count, partition="B", seed=0)
        if len(first) != count:
            problems.append(f"{label}: asked for {count} cells, got {len(first)}")
            continue
        for cell in first:
            cell = np.asarray(cell)
            if cell.dtype != np.uint8 or cell.ndim != 3 or cell.shape[2] not in (3, 4):
                problems.append(f"{label}: a cell is {cell.dtype} {cell.shape}, expected uint8 "
                                f"(H, W, 3) or (H, W, 4)")
                break
        if any(not np.array_equal(a, b) for a, b in zip(first, again)):
            problems.append(f"{label}: the same seed gave other cells the second time")
        if any(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, other)):
            problems.append(f"{label}: partitions A and B gave the same cell")
    _raise(name, problems)


def _check_compositor(spec: GeneratorSpec, options: dict[str, Any]) -> None:
    from bench.generation.contract import cell_generator, compositor, default_generator
    from bench.generation.datasets import split_counts

    builder = compositor(spec.name, **options)
    problems = []
    if not callable(getattr(builder, "build", None)):
        _raise(f"generator {spec.name!r}", ["a compositor needs build(folder, central=, ...)"])
    cells = cell_generator(default_generator("cells"))
    counts = {"train": split_counts(len(CLASSES), "train"),
              "test": split_counts(len(CLASSES), "test")}
    with tempfile.TemporaryDirectory(prefix="bench-contract-") as folder:
        builder.build(Path(folder), central=cells, background=cells, counts=counts, size=32,
                      seed=0, workers=1)
        for split, wanted in counts.items():
            made = sorted(Path(folder, split).glob("*/*.png"))
            if len(made) != sum(wanted.values()):
                problems.append(f"{split}: composed {len(made)} images, expected "
                                f"{sum(wanted.values())}")
    _raise(f"generator {spec.name!r}", problems)


def check_plugins(plugin: str | None = None) -> list[dict[str, Any]]:
    """Run the check of every spec an installed plugin (or every plugin) registered.

    One row per spec: ``plugin``, ``kind``, ``name``, ``result`` (``pass``, ``warn``, ``fail``
    or ``skip``) and ``reason``; a plugin that did not load and a spec that was refused are rows
    that fail. A model that declares no ``pretraining_data`` passes with a warning: boards cannot
    mark its contaminated cells. Families (``timm:<name>``) are skipped: check one member in
    your own tests.
    """
    from bench.errors import UnknownNameError
    from bench.host import get_plugins, get_registries

    registries = get_registries()
    records = get_plugins().records
    if plugin is not None:
        records = [record for record in records if record.name.lower() == plugin.lower()]
        if not records:
            raise UnknownNameError("plugin", plugin, [r.name for r in get_plugins().records])
    checks = {"dataset": (registries.datasets, check_dataset),
              "model": (registries.models, check_model),
              "generator": (registries.generators, check_generator)}
    rows = []
    for record in records:
        def row(kind: str, name: str, result: str, reason: str = "",
                plugin: str = record.name) -> None:
            rows.append({"plugin": plugin, "kind": kind, "name": name, "result": result,
                         "reason": reason})

        if record.status not in ("loaded",):
            row("plugin", record.name, "fail", f"{record.status}: {record.error}")
        for problem in record.problems:
            row("spec", "-", "fail", problem)
        for kind, names in sorted(record.registers.items()):
            registry, check = checks[kind]
            for name in sorted(names):
                spec = registry.get(name)
                if spec.resolve_argument is not None:
                    row(kind, name, "skip", f"a family ({name}:<argument>): check a member")
                    continue
                try:
                    checked = check(spec)
                except ContractError as exc:
                    row(kind, name, "fail", str(exc).split("\n", 1)[-1].replace("\n", " "))
                except Exception as exc:  # noqa: BLE001 - a crash is a broken contract too
                    row(kind, name, "fail", f"{type(exc).__name__}: {exc}")
                else:
                    row(kind, name, *_passed(kind, spec, checked))
    return rows


def _passed(kind: str, spec: Any, checked: Any) -> tuple[str, str]:
    """``pass`` or ``warn``, and what a passing spec should still know."""
    if kind != "model":
        return "pass", ""
    notes = []
    if not checked.get("trained", True):
        notes.append(f"checked on the meta device only: {checked['parameters'] / 1e6:,.0f}M "
                     f"parameters are too many to train a step here")
    if spec.pretraining_data is None:
        notes.append("declares no pretraining_data, so boards cannot mark the cells its "
                     "pretraining may have seen: set ModelSpec(pretraining_data=(...)) to the "
                     "data-set names (or () for none, or free text)")
        return "warn", "; ".join(notes)
    return "pass", "; ".join(notes)


__all__ = ["ContractError", "check_dataset", "check_generator", "check_model",
           "check_plugins"]
