"""Re-scoring: recompute every stored metric from the stored test predictions, no training.

Adding a row to ``bench.metrics`` then reaches old stores with one command. Intervals
and significance marks are never stored: boards derive them from the predictions each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.metrics import score_predictions
from bench.store import Evaluation, ResultsStore


@dataclass
class RescoreReport:
    runs: int = 0  # finished runs whose scores were rewritten
    targets: int = 0  # (run, target) pairs rewritten
    without_predictions: list[tuple[str, str]] = field(default_factory=list)  # kept as they were
    metrics: list[str] = field(default_factory=list)


def rescore_store(store: ResultsStore) -> RescoreReport:
    """Rewrite the scores of every finished run's targets that have stored predictions."""
    report = RescoreReport()
    runs = store.runs("finished")
    metrics: set[str] = set()
    for run_id in runs["id"].tolist():
        predictions = store.predictions(run_id)
        by_target = {t: rows for t, rows in predictions.groupby("target", sort=True)}
        evaluations = []
        for stored in store.evaluations(run_id):
            target = stored["target"]
            rows = by_target.get(target)
            if rows is None or rows.empty:
                report.without_predictions.append((run_id, target))
                continue
            scores, per_class, letters, support, confusion = score_predictions(
                rows["label"].to_numpy(np.int64), rows["predicted"].to_numpy(np.int64),
                np.array(rows["probabilities"].tolist(), dtype=float),
            )
            metrics.update(scores)
            evaluations.append(Evaluation(
                target=target, split_fingerprint=stored["split_fingerprint"], metrics=scores,
                labels=letters, support=support, confusion=confusion, per_class=per_class,
            ))
        if evaluations:
            store.replace_scores(run_id, evaluations)
            report.runs += 1
            report.targets += len(evaluations)
    report.metrics = sorted(metrics)
    return report
