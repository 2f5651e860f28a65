"""Bringing a results store written by an older bench up to date, checkpoint folders included.

Reading an older store needs no change to it (:func:`with_identity`, :func:`legacy_identity`);
opening it for writing migrates it once, in one transaction, folders moved with their runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from bench.cell import Cell

# PRAGMA user_version. 1: runs.init and runs.overrides (runs re-keyed); 2: the checkpoint
# folders of re-keyed runs moved with them (version 1 had left them behind).
SCHEMA_VERSION = 2


def legacy_identity(protocol: str, settings: str | None, summary: str | None) -> tuple[str, str]:
    """(init, overrides) of a run recorded before the store kept them, from its settings."""
    from bench.protocols import overrides_text, recipe_differences

    recorded = json.loads(settings) if settings else {}
    if recorded.get("weights"):
        sha = ((json.loads(summary) if summary else {}).get("weights") or {}).get("sha256")
        if not sha:
            from bench.weights import file_sha256

            try:
                sha = file_sha256(Path(recorded["weights"]).expanduser())
            except OSError:
                sha = "unknown"
        init = f"weights:{sha[:12]}"
    else:
        init = "scratch" if recorded.get("pretrained") is False else "pretrained"
    recipe = recorded.get("protocol_recipe")
    overrides = overrides_text(recipe_differences(protocol, recipe)) if recipe else ""
    return init, overrides


def migrate_schema(db: sqlite3.Connection, runs_root: Path) -> None:
    """Bring an older store up to SCHEMA_VERSION, in the caller's transaction.

    Version 1 adds each run's initialisation and recipe overrides, read from its recorded
    settings, and re-keys the runs that did not start from pretrained weights (their id now
    covers it; a default run keeps its id, so its finished cell stays found). Version 2 moves
    their checkpoint folders in ``runs_root`` to the new ids.
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if "init" not in columns:
        db.execute("ALTER TABLE runs ADD COLUMN init TEXT NOT NULL DEFAULT 'pretrained'")
        db.execute("ALTER TABLE runs ADD COLUMN overrides TEXT NOT NULL DEFAULT ''")
        db.execute("PRAGMA defer_foreign_keys = ON")  # runs and their rows are re-keyed together
        for row in db.execute("SELECT * FROM runs").fetchall():
            init, overrides = legacy_identity(row["protocol"], row["settings"], row["summary"])
            new_id = _cell_id(row, init)
            db.execute("UPDATE runs SET id = ?, init = ?, overrides = ? WHERE id = ?",
                       (new_id, init, overrides, row["id"]))
            if new_id != row["id"]:
                for table in ("epochs", "evaluations", "scores", "predictions"):
                    db.execute(f"UPDATE {table} SET run_id = ? WHERE run_id = ?",  # noqa: S608
                               (new_id, row["id"]))
    move_checkpoint_folders(db, runs_root)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _cell_id(row: sqlite3.Row, init: str = "pretrained") -> str:
    """A run's id under the current formula; with the default ``init``, its id before version 1."""
    return Cell(row["model"], row["source"], row["seed"], row["protocol"], row["protocol_hash"],
                row["split_fingerprint"], init).id


def move_checkpoint_folders(db: sqlite3.Connection, runs_root: Path) -> None:
    """Give each re-keyed run the checkpoint folder it had under its old id.

    ``runs_root/<old id>`` becomes ``runs_root/<id>`` and the recorded best checkpoint follows,
    so `bench runs forget` and `bench runs prune` find them. A folder whose old id belongs to a
    run in the store now (the default cell, trained since) is its own and stays. Safe to repeat:
    a move whose transaction did not commit is completed the next time.
    """
    if not runs_root.is_dir():
        return
    rows = db.execute("SELECT * FROM runs WHERE init != 'pretrained'").fetchall()
    for row in rows:
        old = _cell_id(row)
        source, target = runs_root / old, runs_root / row["id"]
        owned = db.execute("SELECT 1 FROM runs WHERE id = ?", (old,)).fetchone() is not None
        if not owned and source.is_dir() and not target.exists():
            os.rename(source, target)
        checkpoint = Path(row["checkpoint"] or "")
        if checkpoint.parent.name == old and not owned and not source.exists() \
                and (target / checkpoint.name).is_file():
            db.execute("UPDATE runs SET checkpoint = ? WHERE id = ?",
                       (str(target / checkpoint.name), row["id"]))


def with_identity(row: dict[str, Any]) -> dict[str, Any]:
    """A run row read from an older (read-only, unmigrated) store, given init and overrides."""
    if "init" not in row:
        row["init"], row["overrides"] = legacy_identity(row["protocol"], row.get("settings"),
                                                        row.get("summary"))
    return row
