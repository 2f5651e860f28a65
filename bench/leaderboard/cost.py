"""What each run cost: training and test throughput, wall time, peak memory and the machine.

The engine records them in each run's summary (``cost``: ``bench.engine.job_cost.cost_summary``,
per-target test timings added by ``bench evaluate``; ``device_info``:
``bench.provenance.device_description``). Here they become columns of the score rows (text,
as the records carry them, so a board rebuilt from records is the store's to the byte), and a
table that ``--cost`` adds to a board. A run that recorded none shows a dash, never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bench.leaderboard.display_names import Names
from bench.leaderboard.model import MISSING, Column, Row, Table, Value

if TYPE_CHECKING:
    import pandas as pd

    from bench.store import ResultsStore

COST_COLUMNS = (
    "train_images_per_second",  # the run's training epochs, all processes of a resumed run
    "eval_images_per_second",  # this target's test split
    "wall_seconds",  # training, validation and testing, as the run recorded it
    "peak_memory_bytes",
    "peak_memory_kind",  # cuda-allocated (on a GPU) or cpu-rss
    "device",  # device_description as compact JSON
)
GIB = 2.0**30


def _number(value: Any) -> str:
    """A recorded number as the records write it; "" when the run recorded none."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return str(value) if isinstance(value, int) else repr(round(float(value), 3))


def cost_cells(summary: Mapping[str, Any], target: str) -> dict[str, str]:
    """One run's cost columns on one target, from its stored summary."""
    cost = summary.get("cost") or {}
    tested = (cost.get("evaluation") or {}).get(target) or {}
    images, seconds = tested.get("images"), tested.get("seconds")
    memory = cost.get("peak_memory") or {}
    device = summary.get("device_info")
    return {
        "train_images_per_second": _number(cost.get("train_images_per_second")),
        "eval_images_per_second": _number(images / seconds) if images and seconds else "",
        "wall_seconds": _number(cost.get("wall_seconds")),
        "peak_memory_bytes": _number(memory.get("bytes")),
        "peak_memory_kind": str(memory.get("kind") or "") if memory.get("bytes") else "",
        "device": json.dumps(device, sort_keys=True, separators=(",", ":")) if device else "",
    }


def with_costs(frame: pd.DataFrame, store: ResultsStore) -> pd.DataFrame:
    """Score rows with their run's cost columns on their target (text; "" where unrecorded)."""
    if frame.empty:
        return frame.assign(**dict.fromkeys(COST_COLUMNS, ""))
    runs = store.runs("finished")
    summaries = {run_id: json.loads(text) if isinstance(text, str) and text else {}
                 for run_id, text in zip(runs["id"], runs["summary"], strict=True)}
    cells = {pair: cost_cells(summaries.get(pair[0], {}), pair[1])
             for pair in set(zip(frame["run_id"], frame["target"], strict=True))}
    pairs = list(zip(frame["run_id"], frame["target"], strict=True))
    return frame.assign(**{column: [cells[pair][column] for pair in pairs]
                           for column in COST_COLUMNS})


def has_costs(frame: pd.DataFrame) -> bool:
    return all(c in frame.columns for c in COST_COLUMNS) and bool(
        (frame[list(COST_COLUMNS)] != "").to_numpy().any())


def device_text(device: Mapping[str, Any]) -> str:
    """``NVIDIA H100 80GB HBM3, CUDA 12.4; torch 2.4.1; AMP; channels-last``, or the CPU's."""
    if device.get("gpu"):
        parts = [f"{device['gpu']}, CUDA {device.get('cuda') or '?'}"]
    else:
        cores = device.get("cores")
        parts = [f"{device.get('cpu') or 'CPU'}" + (f", {cores} cores" if cores else "")]
    parts.append(f"torch {device.get('torch', '?')}")
    parts.append("AMP" if device.get("amp") else "fp32")
    if device.get("channels_last"):
        parts.append("channels-last")
    if device.get("compile") not in (None, "none"):
        parts.append(f"compiled ({device['compile']})")
    return "; ".join(parts)


def _mean(texts: Iterable[str], scale: float = 1.0) -> Value:
    values = [float(text) * scale for text in texts if text]
    if not values:
        return MISSING
    return Value(mean=sum(values) / len(values), n=len(values))


def _devices(texts: Iterable[str]) -> str:
    shown = sorted({device_text(json.loads(text)) for text in texts if text})
    return " / ".join(shown) or "–"


COLUMNS = (
    Column("train", "train img/s", metric="train_images_per_second", kind="count", better=None),
    Column("test", "test img/s", metric="eval_images_per_second", kind="count", better=None),
    Column("wall", "wall min", metric="wall_seconds", kind="score", better=None),
    Column("memory", "peak GiB", metric="peak_memory_bytes", kind="score", better=None),
)
SCALES = {"wall": 1 / 60, "memory": 1 / GIB}


def cost_table(frame: pd.DataFrame, names: Names) -> Table:
    """A row per model and source: each cost the mean over its runs (test: over targets too)."""
    runs = frame.drop_duplicates(["run_id", "target"])
    rows: list[Row] = []
    for model in names.order("model", runs["model"].unique()):
        for source in names.order("dataset", runs.loc[runs["model"] == model, "source"]):
            mine = runs[(runs["model"] == model) & (runs["source"] == source)]
            per_run = mine.drop_duplicates("run_id")
            cells = {}
            for column in COLUMNS:
                texts = (mine if column.key == "test" else per_run)[column.metric].tolist()
                cells[column.key] = _mean(texts, SCALES.get(column.key, 1.0))
            rows.append(Row(key=(model, source, _devices(per_run["device"])),
                            labels=(names.label("model", model), names.label("dataset", source),
                                    _devices(per_run["device"])),
                            cells=cells))
    return Table(
        name="cost",
        title="Cost: what training and testing took, and on what",
        index=("Model", "Source", "Device"),
        index_keys=("model", "source", "device"),
        columns=COLUMNS,
        rows=tuple(rows),
        notes=(
            "Means over runs (seeds); test img/s also over targets. train img/s: training "
            "images per second over every epoch; wall min: training, validation and testing; "
            "peak GiB: CUDA peak allocated on a GPU, peak resident memory on a CPU. –: the run "
            "recorded no cost.",
        ),
    )


def cost_frame(frame: pd.DataFrame, columns: Sequence[str] = COST_COLUMNS) -> pd.DataFrame:
    """The cost columns a frame carries, "" where it has none (records without costs)."""
    missing = {c: "" for c in columns if c not in frame.columns}
    return frame.assign(**missing) if missing else frame
