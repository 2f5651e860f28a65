"""The results store: SQLite in WAL mode, one transaction per state change.

- ``results``: opening a store and every write (claim, heartbeat, epochs, finish, evaluations);
- ``frames``: the reads the leaderboard and the CLI use;
- ``schema`` and ``migration``: the tables, and bringing older stores up to date;
- ``liveness``: whether a running cell's process still works on it;
- ``failures``: SQLite's errors as one actionable message (damage, read-only, full disk).
"""

from __future__ import annotations

from bench.cell import Cell
from bench.store.failures import StoreError, translate_error
from bench.store.liveness import STALE_AFTER, run_alive
from bench.store.results import ResultsStore, open_store
from bench.store.schema import Evaluation

__all__ = ["STALE_AFTER", "Cell", "Evaluation", "ResultsStore", "StoreError", "open_store",
           "run_alive", "translate_error"]
