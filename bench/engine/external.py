"""A model trained elsewhere: its checkpoint tested on any target, recorded as a cell.

`bench evaluate --model ARCH --weights FILE --target T` builds ARCH, loads FILE strictly (a
safetensors file or a plain state dict, in the model's own layout or its publisher's) and tests
it, without training, on every target, shifted ones included. The file's classifier must have
the five classes; the order of its outputs is stated in the file (safetensors metadata
``class_order``, e.g. ``"N,L,M,E,B"``) or with ``--class-order``, and its logits are reordered
to bench's L, M, N, E, B.

The cell is (ARCH, source ``external``, seed 0, the protocol's hash, the file's SHA-256 as its
source fingerprint, init ``weights:<sha12>``): the same file tested again on more targets adds
to it, and boards show it apart from models bench trained (their header names the file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cell import EXTERNAL, Cell
from bench.engine.finished_cells import EvaluationResult
from bench.engine.run_display import Listener
from bench.errors import BenchError, DataError, OptionError, RunError
from bench.labels import CLASSES
from bench.models import name_one
from bench.protocols import Protocol
from bench.store import ResultsStore
from bench.weights import file_sha256, initialisation

ORDER_KEY = "class_order"  # safetensors metadata key stating the classifier's output order


@dataclass
class ExternalRequest:
    """What `bench evaluate --weights` asks for: one architecture, one file, the targets."""

    model: str
    weights: Path
    targets: Sequence[str]
    protocol: Protocol
    class_order: str | None = None  # "N,L,M,E,B" or class names; None: the file states it
    force: bool = False
    device: str = "auto"
    workers: int = 0


def parse_class_order(text: str, where: str) -> tuple[str, ...]:
    """Five class letters or names, each once: ``N,L,M,E,B`` or ``neutrophil,lymphocyte,...``."""
    from bench.data.classes import ClassMapper, wbc_class_map

    mapper = ClassMapper(wbc_class_map(**{label: label for label in CLASSES}))
    parts = [part.strip() for part in text.split(",") if part.strip()]
    labels = [mapper.label(part) if mapper.knows(part) else None for part in parts]
    if None in labels or sorted(labels) != sorted(CLASSES):  # type: ignore[type-var]
        raise OptionError(f"{where} {text!r}: give the order of the classifier's five outputs, "
                          f"each class once, as letters ({','.join(CLASSES)}) or names "
                          f"(lymphocyte, monocyte, neutrophil, eosinophil, basophil).")
    return tuple(labels)  # type: ignore[arg-type]


def stated_order(path: Path) -> str | None:
    """The class order a safetensors file states in its metadata, if it does."""
    from bench.weights import _is_safetensors

    if not _is_safetensors(path):
        return None
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return (handle.metadata() or {}).get(ORDER_KEY)


def class_order(request: ExternalRequest) -> tuple[str, ...]:
    """The file's output order: its own statement, ``--class-order``, both agreeing, or an error."""
    stated = stated_order(request.weights)
    given = (parse_class_order(request.class_order, "--class-order")
             if request.class_order else None)
    in_file = parse_class_order(stated, f"{request.weights} metadata {ORDER_KEY}") \
        if stated else None
    if given and in_file and given != in_file:
        raise OptionError(f"--class-order {','.join(given)}: {request.weights} states "
                          f"{','.join(in_file)} (metadata {ORDER_KEY}); leave the option out.")
    order = given or in_file
    if order is None:
        raise OptionError(f"--class-order: {request.weights} does not state the order of its "
                          f"classifier's outputs; give it, e.g. --class-order "
                          f"{','.join(CLASSES)} (bench's own order) or N,L,M,E,B.")
    return order


def reordered(module: Any, order: Sequence[str]) -> Any:
    """``module`` with its logits permuted from ``order`` to bench's L, M, N, E, B."""
    import torch
    from torch import nn

    index = torch.tensor([list(order).index(label) for label in CLASSES])
    if index.tolist() == list(range(len(CLASSES))):
        return module

    class Reordered(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module
            self.register_buffer("index", index, persistent=False)

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return self.inner(images).index_select(1, self.index.to(images.device))

    return Reordered()


def _five_class_head(weights: dict[str, Any], path: Path) -> None:
    """Refuse a file whose classifier bench would have replaced: it was not trained on ours."""
    head = [note for note in weights.get("notes", []) if "classifier head" in note]
    if head:
        raise RunError(f"{path} cannot be tested as it is: {head[0].split(';')[0]}. `bench "
                       f"evaluate --weights` tests a classifier trained on the five classes "
                       f"({', '.join(CLASSES)}, in the order --class-order states); to train a "
                       f"new head from it, use `bench run --weights {path}`.")


def evaluate_external(request: ExternalRequest, listener: Listener,
                      store: ResultsStore) -> EvaluationResult:
    """Test an external checkpoint on the request's targets and record the cell."""
    from bench.engine.best_checkpoint import missing_targets
    from bench.engine.options import check_device, check_value
    from bench.engine.plans import CellPlan
    from bench.engine.selection import prepared_targets
    from bench.engine.training import test_as_built
    from bench.home import subdir
    from bench.host import get_registries

    check_value("--workers", request.workers)
    check_device(request.device)
    path = Path(request.weights).expanduser()
    if not path.is_file():
        raise OptionError(f"--weights {path}: no such file; give the checkpoint to test "
                          f"(safetensors or a state dict).")
    spec = get_registries().models.get(request.model)
    if spec.resolve_argument is not None:
        raise OptionError(f"--model {request.model}: a family of models; the architecture the "
                          f"checkpoint was trained with: {name_one(spec)}.")
    order = class_order(request)
    targets, fingerprints = prepared_targets(request.targets, listener)
    digest = file_sha256(path)
    cell = Cell(spec.name, EXTERNAL, 0, request.protocol.name, request.protocol.hash, digest,
                initialisation(False, path))
    result = EvaluationResult(cell.id, cell.model, EXTERNAL, 0, cell.protocol,
                              cell.protocol_hash, "skipped")
    existing = store.run(cell.id) or {}
    finished = existing.get("status") == "finished"
    wanted = list(targets) if request.force or not finished else missing_targets(
        store, cell.id, targets, fingerprints)
    if not wanted:
        result.detail = "already tested on every target (--force tests again)"
        listener.on_cell_end(f"{spec.name} from {path.name}", result.status, result.detail)
        return result
    plan = CellPlan(model=spec.name, source=EXTERNAL, targets=wanted, seed=0,
                    protocol=request.protocol, checkpoint_dir=subdir("runs", cell.id, create=False),
                    device=request.device, workers=request.workers, pretrained=False,
                    weights=str(path), init=cell.init)
    settings = {**plan.settings(), "class_order": list(order), "external": True}

    def adapt(module: Any, weights: dict[str, Any]) -> Any:
        _five_class_head(weights, path)
        return reordered(module, order)

    listener.notice(f"testing {spec.name} from {path} (trained outside bench; outputs in the "
                    f"order {','.join(order)}) on {', '.join(wanted)}")
    run_id = None if finished else store.claim(cell, settings=settings, provenance=_provenance())
    if not finished and run_id is None:
        raise RunError(f"{spec.name} from {path} is being tested by another process; try "
                       f"again once it is done.")
    try:
        evaluations, weights = test_as_built(plan, adapt, listener)
    except BenchError as exc:
        if run_id is not None:
            store.fail(run_id, str(exc))
        raise
    if finished:
        store.add_evaluations(cell.id, evaluations)
    else:
        store.finish(cell.id, evaluations, epochs=0, best_epoch=0, checkpoint=str(path),
                     summary={"weights": weights, "class_order": list(order),
                              "source_fingerprint": digest,
                              "target_fingerprints": {ev.target: ev.split_fingerprint
                                                      for ev in evaluations}})
    result.status = "finished"
    result.detail = f"tested on {', '.join(wanted)} (trained outside bench)"
    result.scores = {ev.target: ev.metrics for ev in evaluations}
    listener.on_cell_end(f"{spec.name} from {path.name}", result.status, result.detail)
    return result


def _provenance() -> dict[str, Any]:
    from bench import provenance

    return provenance.collect()


def check_no_training_options(source: Sequence[str], seeds: object) -> None:
    """`--weights` tests one file: a source or seeds belong to models bench trained."""
    if source:
        raise DataError("--source names the data set bench trained a model on; a --weights "
                        "checkpoint was trained elsewhere (its cells have source `external`). "
                        "Leave --source out.")
    if seeds is not None:
        raise DataError("--seed/--seeds choose runs bench trained; a --weights checkpoint is "
                        "one model. Leave them out.")
