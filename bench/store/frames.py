"""The store's reads as the leaderboard and the CLI use them: runs, scores, predictions as frames.

A mixin of :class:`bench.store.results.ResultsStore`: every method opens its own short, read-only
connection through the store's ``_connect``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bench.store.migration import legacy_identity, with_identity

if TYPE_CHECKING:
    import pandas as pd


class StoreReads:
    """Reading results: frames of runs and scores, one run's record, its predictions."""

    def _frame(self, query: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        import pandas as pd

        with self._connect() as db:
            return pd.read_sql_query(query, db, params=list(params))

    def runs(self, status: str | None = None) -> pd.DataFrame:
        query = "SELECT * FROM runs"
        params: list[Any] = []
        if status:
            query += " WHERE status = ?"
            params.append(status)
        frame = self._frame(query + " ORDER BY created, id", params)
        if "init" not in frame.columns:  # an older store opened read-only
            identity = [with_identity(row) for row in frame.to_dict("records")]
            frame["init"] = [row["init"] for row in identity]
            frame["overrides"] = [row["overrides"] for row in identity]
        return frame

    def run_ids(self, prefix: str) -> list[str]:
        """The ids that start with ``prefix``, read literally (``%`` and ``_`` are no wildcards).

        An empty prefix matches nothing.
        """
        if not prefix:
            return []
        with self._connect() as db:
            rows = db.execute("SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY created, id",
                              (len(prefix), prefix)).fetchall()
        return [row["id"] for row in rows]

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run by id or unique id prefix, with its epochs; None unless exactly one matches."""
        ids = self.run_ids(run_id)
        if len(ids) != 1:
            return None
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs WHERE id = ?", (ids[0],)).fetchall()
            if len(rows) != 1:  # forgotten by another process in between
                return None
            run = dict(rows[0])
            run["epoch_log"] = [
                {"epoch": r["epoch"], **json.loads(r["values_json"])}
                for r in db.execute(
                    "SELECT epoch, values_json FROM epochs WHERE run_id = ? ORDER BY epoch",
                    (run["id"],),
                )
            ]
        run = with_identity(run)
        for key in ("settings", "provenance", "summary"):
            run[key] = json.loads(run[key]) if run[key] else {}
        return run

    def scores(self) -> pd.DataFrame:
        """Every score of every finished run, one row per (run, target, metric).

        ``per_class`` is a dict (class letter -> value) for the metrics that have one, else None.
        """
        with self._connect() as db:
            current = "init" in {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        frame = self._frame(
            "SELECT r.id AS run_id, r.model, r.source, r.seed, r.protocol, r.protocol_hash,"
            " r.split_fingerprint AS source_fingerprint, s.target,"
            " e.split_fingerprint AS target_fingerprint, s.metric, s.value, s.per_class,"
            + (" r.init, r.overrides" if current else " r.settings, r.summary")
            + " FROM scores s JOIN runs r ON r.id = s.run_id"
            " JOIN evaluations e ON e.run_id = s.run_id AND e.target = s.target"
            " WHERE r.status = 'finished' ORDER BY r.model, r.source, r.seed, s.target, s.metric"
        )
        frame["per_class"] = frame["per_class"].map(
            lambda text: json.loads(text) if isinstance(text, str) else None)
        if not current:  # an older store opened read-only: derive them per run
            identity = {run_id: legacy_identity(protocol, settings, summary)
                        for run_id, protocol, settings, summary in frame[
                            ["run_id", "protocol", "settings", "summary"]
                        ].drop_duplicates("run_id").itertuples(index=False)}
            frame["init"] = frame["run_id"].map(lambda run_id: identity[run_id][0])
            frame["overrides"] = frame["run_id"].map(lambda run_id: identity[run_id][1])
            frame = frame.drop(columns=["settings", "summary"])
        return frame

    def evaluations(self, run_id: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM evaluations WHERE run_id = ? ORDER BY target", (run_id,)
            ).fetchall()
        return [
            {**dict(r), **{k: json.loads(r[k]) for k in ("labels", "support", "confusion")}}
            for r in rows
        ]

    def predictions(self, run_id: str, target: str | None = None) -> pd.DataFrame:
        query = "SELECT * FROM predictions WHERE run_id = ?"
        params: list[Any] = [run_id]
        if target:
            query += " AND target = ?"
            params.append(target)
        frame = self._frame(query + " ORDER BY target, path", params)
        frame["probabilities"] = frame["probabilities"].map(json.loads)
        return frame

    def prediction_arrays(self, run_ids: Sequence[str]) -> dict[str, Any]:
        """Test predictions of many runs as arrays, ordered by run, target and path.

        Keys: run_id, target, path (lists), label, predicted (int arrays), probabilities
        (images x classes). Bypasses pandas and per-row JSON parsing: a board's bootstrap reads
        hundreds of thousands of rows.
        """
        import numpy as np

        rows: list[tuple[Any, ...]] = []
        ids = list(dict.fromkeys(run_ids))
        with self._connect() as db:
            for start in range(0, len(ids), 500):  # below SQLite's limit on bound parameters
                chunk = ids[start:start + 500]
                rows += db.execute(
                    "SELECT run_id, target, path, label, predicted, probabilities FROM"
                    f" predictions WHERE run_id IN ({','.join('?' * len(chunk))})"  # noqa: S608
                    " ORDER BY run_id, target, path", chunk,
                ).fetchall()
        texts = [row[5] for row in rows]
        width = texts[0].count(",") + 1 if texts else 0
        try:  # each is a JSON list of numbers, as finish() writes it
            flat = np.array(",".join(t[1:-1] for t in texts).split(","), dtype=float)
            probabilities = flat.reshape(len(rows), width) if rows else np.zeros((0, 0))
        except ValueError:
            probabilities = np.array([json.loads(t) for t in texts], dtype=float)
        return {
            "run_id": [row[0] for row in rows],
            "target": [row[1] for row in rows],
            "path": [row[2] for row in rows],
            "label": np.array([row[3] for row in rows], dtype=np.int64),
            "predicted": np.array([row[4] for row in rows], dtype=np.int64),
            "probabilities": probabilities,
        }
