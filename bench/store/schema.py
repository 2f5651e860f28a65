"""The store's tables and how one evaluation is written into them.

The schema is created if missing on every open; older stores are brought up to date by
:mod:`bench.store.migration`.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.store.failures import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    source TEXT NOT NULL,
    seed INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    protocol_hash TEXT NOT NULL,
    split_fingerprint TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    owner TEXT,
    heartbeat REAL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    epochs INTEGER,
    best_epoch INTEGER,
    checkpoint TEXT,
    settings TEXT,
    provenance TEXT,
    summary TEXT,
    error TEXT,
    init TEXT NOT NULL DEFAULT 'pretrained',
    overrides TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id),
    epoch INTEGER NOT NULL,
    values_json TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS evaluations (
    run_id TEXT NOT NULL REFERENCES runs(id),
    target TEXT NOT NULL,
    split_fingerprint TEXT NOT NULL,
    labels TEXT NOT NULL,
    support TEXT NOT NULL,
    confusion TEXT NOT NULL,
    PRIMARY KEY (run_id, target)
);
CREATE TABLE IF NOT EXISTS scores (
    run_id TEXT NOT NULL REFERENCES runs(id),
    target TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    per_class TEXT,
    PRIMARY KEY (run_id, target, metric)
);
CREATE TABLE IF NOT EXISTS predictions (
    run_id TEXT NOT NULL REFERENCES runs(id),
    target TEXT NOT NULL,
    path TEXT NOT NULL,
    label INTEGER NOT NULL,
    predicted INTEGER NOT NULL,
    probabilities TEXT NOT NULL,
    PRIMARY KEY (run_id, target, path)
);
"""


@dataclass
class Evaluation:
    """A trained model's test on one target: what the store keeps per (run, target)."""

    target: str
    split_fingerprint: str
    metrics: dict[str, float]
    labels: list[str]  # the canonical classes present in the target's test split
    support: dict[str, int]
    confusion: list[list[int]]
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> label -> v
    predictions: Sequence[tuple[str, int, int, Sequence[float]]] = ()  # path, label, pred, probs
    seconds: float | None = None  # the model's time to predict the test split (cost columns)


def insert_evaluation(db: sqlite3.Connection, run_id: str, ev: Evaluation, *,
                       predictions: bool = True) -> None:
    # A score that is not a finite number would reach boards as "nan" and JSON as bare NaN.
    bad = {metric: value for metric, value in ev.metrics.items()
           if not math.isfinite(float(value))}
    if bad:
        raise StoreError(f"run {run_id} on {ev.target}: the scores {bad} are not finite numbers; "
                         "nothing was recorded. The model's predictions hold NaN or infinity: "
                         "lower the learning rate, or check the model's plugin.")
    db.execute(
        "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?)",
        (run_id, ev.target, ev.split_fingerprint, json.dumps(ev.labels),
         json.dumps(ev.support), json.dumps(ev.confusion)),
    )
    db.executemany(
        "INSERT INTO scores VALUES (?, ?, ?, ?, ?)",
        [(run_id, ev.target, metric, float(value),
          json.dumps(ev.per_class[metric]) if metric in ev.per_class else None)
         for metric, value in ev.metrics.items()],
    )
    if not predictions:
        return
    db.executemany(
        "INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?)",
        [(run_id, ev.target, path, int(label), int(pred),
          json.dumps([round(float(p), 6) for p in probs]))
         for path, label, pred, probs in ev.predictions],
    )
