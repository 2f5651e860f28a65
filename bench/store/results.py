"""Opening the results store and every write to it: claim, heartbeat, epochs, finish, scores.

A run is one cell of the benchmark matrix, identified by (model, source, seed, protocol hash,
source split fingerprint, initialisation). Its id is derived from that key, so two processes that
want the same cell meet on the same row: one claims it, the other skips it, and nothing is
recorded twice.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.cell import Cell
from bench.store.failures import (
    StoreError,
    check_file,
    log_pending,
    low_space,
    no_space_error,
    read_only_error,
    translate_error,
)
from bench.store.frames import StoreReads
from bench.store.liveness import process_alive, this_process
from bench.store.migration import SCHEMA_VERSION, migrate_schema
from bench.store.schema import SCHEMA, Evaluation, insert_evaluation


class ResultsStore(StoreReads):
    """Read and write results; every method opens its own short connection (process safe).

    ``read_only`` opens an existing store without writing anything (not even the schema), so
    listing runs and rendering boards work on a read-only data home; a missing store then reads
    as empty.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._immutable = False
        if read_only:
            if self.path.exists():
                check_file(self.path)
                # A WAL store needs its -shm file; where it cannot be made, read it as is.
                shm = self.path.with_name(self.path.name + "-shm")
                self._immutable = not shm.exists() and not os.access(self.path.parent, os.W_OK)
                try:
                    self._probe()
                except StoreError:
                    # A full disk has no room for that index either; a store with no pending
                    # log is whole in its file, so read the file as is.
                    if self._immutable or not low_space(self.path) or log_pending(self.path):
                        raise
                    self._immutable = True
                    self._probe()
            return
        if self.path.exists():
            check_file(self.path)
            if not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
                raise read_only_error(self.path)
        else:
            self._create()
        with self._transaction() as db:
            for statement in filter(str.strip, SCHEMA.split(";")):
                db.execute(statement)
            migrate_schema(db, self.path.parent / "runs")

    def _probe(self) -> None:
        with self._connect() as db:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def _create(self) -> None:
        """Build a new store beside its final name, then link it into place.

        The link appears complete or not at all, so a process never meets a half-made store,
        and an empty file at ``path`` is always damage, never "new".
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".new",
                                            dir=self.path.parent)
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise read_only_error(self.path) from exc
            raise StoreError(f"cannot create the results store {self.path}: {exc}") from exc
        os.close(handle)
        temporary = Path(name)
        try:
            db = sqlite3.connect(temporary, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")  # kept in the file's header
                for statement in filter(str.strip, SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except sqlite3.Error as exc:
                raise (no_space_error(self.path) if low_space(self.path) else StoreError(
                    f"cannot create the results store {self.path}: {exc}")) from exc
            finally:
                db.close()
            os.chmod(temporary, 0o666 & ~_umask())
            try:
                os.link(temporary, self.path)
            except FileExistsError:
                pass  # another process created it first: use theirs
            except OSError:  # a file system without hard links: a rename, unless one is there
                if not self.path.exists():
                    os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self.read_only and not self.path.exists():
            target, uri = ":memory:", False  # nothing recorded yet: an empty store
        elif self.read_only:
            mode = "immutable=1" if self._immutable else "mode=ro"
            target, uri = f"{self.path.resolve().as_uri()}?{mode}", True
        else:
            target, uri = str(self.path), False
        try:
            db = sqlite3.connect(target, timeout=60, isolation_level=None, uri=uri)
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA foreign_keys=ON")
            if target == ":memory:":
                db.executescript(SCHEMA)
            yield db
        except StoreError:
            raise
        except Exception as exc:
            translated = translate_error(exc, self.path)
            if translated is exc:
                raise
            raise translated from exc
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- writing --------------------------------------------------------------------------

    def claim(
        self,
        cell: Cell,
        *,
        settings: dict[str, Any] | None = None,
        provenance: dict[str, Any] | None = None,
        owner: str | None = None,
        stale_after: float = 600.0,
        retry_failed: bool = True,
    ) -> str | None:
        """Mark a cell as running for ``owner``; None when it is finished or held elsewhere.

        A running cell whose owner has not sent a heartbeat for ``stale_after`` seconds is taken
        over: its process died (kill -9, power loss) and its checkpoints let the new owner resume.
        """
        owner = owner or this_process()
        now = time.time()
        with self._transaction() as db:
            row = db.execute(
                "SELECT status, owner, heartbeat FROM runs WHERE id = ?", (cell.id,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO runs (id, model, source, seed, protocol, protocol_hash,"
                    " split_fingerprint, status, owner, heartbeat, created, started, settings,"
                    " provenance, init, overrides)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        cell.id, cell.model, cell.source, cell.seed, cell.protocol,
                        cell.protocol_hash, cell.split_fingerprint, owner, now, now, now,
                        json.dumps(settings or {}), json.dumps(provenance or {}), cell.init,
                        cell.overrides,
                    ),
                )
                return cell.id
            if row["status"] == "finished":
                return None
            if row["status"] == "failed" and not retry_failed:
                return None
            alive = (
                row["heartbeat"] is not None
                and now - row["heartbeat"] < stale_after
                and process_alive(row["owner"])
            )
            if row["status"] == "running" and alive and row["owner"] != owner:
                return None
            db.execute(
                "UPDATE runs SET status = 'running', owner = ?, heartbeat = ?, started = ?,"
                " error = NULL, settings = ?, provenance = ? WHERE id = ?",
                (owner, now, now, json.dumps(settings or {}), json.dumps(provenance or {}),
                 cell.id),
            )
            return cell.id

    def heartbeat(self, run_id: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time(), run_id))

    def record_epoch(self, run_id: str, epoch: int, values: dict[str, float]) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, values_json) VALUES (?, ?, ?)",
                (run_id, epoch, json.dumps(values)),
            )
            db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time(), run_id))

    def finish(
        self,
        run_id: str,
        evaluations: Sequence[Evaluation],
        *,
        epochs: int | None = None,
        best_epoch: int | None = None,
        checkpoint: str | None = None,
        summary: dict[str, Any] | None = None,
        history: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Write every target's scores (and every epoch's row) and mark the run finished.

        All or nothing. ``history`` rewrites the epochs table from the checkpoint's record, so
        a row lost to a kill between checkpoint and store is back once the run finishes.
        """
        with self._transaction() as db:
            for table in ("evaluations", "scores", "predictions"):
                db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))  # noqa: S608
            for ev in evaluations:
                insert_evaluation(db, run_id, ev)
            db.executemany(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, values_json) VALUES (?, ?, ?)",
                [(run_id, int(entry["epoch"]),
                  json.dumps({k: v for k, v in entry.items() if k != "epoch"}))
                 for entry in history],
            )
            db.execute(
                "UPDATE runs SET status = 'finished', finished = ?, heartbeat = ?, epochs = ?,"
                " best_epoch = ?, checkpoint = ?, summary = ?, error = NULL WHERE id = ?",
                (time.time(), time.time(), epochs, best_epoch, checkpoint,
                 json.dumps(summary or {}), run_id),
            )

    def add_evaluations(self, run_id: str, evaluations: Sequence[Evaluation]) -> None:
        """Add (or replace) some targets' scores of a finished run; its other targets stay.

        What testing a trained model on a new target records, in one transaction.
        """
        with self._transaction() as db:
            row = db.execute("SELECT status, summary FROM runs WHERE id = ?",
                             (run_id,)).fetchone()
            if row is None or row["status"] != "finished":
                raise StoreError(f"run {run_id} is not finished in {self.path}: only a finished "
                                 f"run's scores can be extended")
            summary = json.loads(row["summary"]) if row["summary"] else {}
            fingerprints = summary.setdefault("target_fingerprints", {})
            timings = summary.setdefault("cost", {}).setdefault("evaluation", {})
            for ev in evaluations:
                if ev.seconds is not None:
                    timings[ev.target] = {"images": sum(ev.support.values()),
                                          "seconds": round(ev.seconds, 3)}
                for table in ("evaluations", "scores", "predictions"):
                    db.execute(f"DELETE FROM {table} WHERE run_id = ? AND target = ?",  # noqa: S608
                               (run_id, ev.target))
                insert_evaluation(db, run_id, ev)
                fingerprints[ev.target] = ev.split_fingerprint
            db.execute("UPDATE runs SET summary = ? WHERE id = ?", (json.dumps(summary), run_id))

    def evaluated_targets(self, run_id: str) -> dict[str, str]:
        """Target -> split fingerprint of every target a run has scores for."""
        with self._connect() as db:
            rows = db.execute("SELECT target, split_fingerprint FROM evaluations WHERE run_id = ?",
                              (run_id,)).fetchall()
        return {row["target"]: row["split_fingerprint"] for row in rows}

    def fail(self, run_id: str, error: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET status = 'failed', finished = ?, error = ? WHERE id = ?",
                (time.time(), error, run_id),
            )

    def forget(self, run_id: str) -> dict[str, int]:
        """Delete a run and every row keyed by its id, in one transaction; rows per table.

        Tables are found in the schema, so a table added later is emptied too.
        """
        removed: dict[str, int] = {}
        with self._transaction() as db:
            tables = [row[0] for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'runs'")]
            for table in tables:
                columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if "run_id" in columns:
                    cursor = db.execute(f"DELETE FROM {table} WHERE run_id = ?",  # noqa: S608
                                        (run_id,))
                    removed[table] = cursor.rowcount
            removed["runs"] = db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount
        return removed

    def replace_scores(self, run_id: str, evaluations: Sequence[Evaluation]) -> None:
        """Rewrite the scores of some targets of a finished run (re-scoring); predictions stay."""
        with self._transaction() as db:
            for ev in evaluations:
                for table in ("evaluations", "scores"):
                    db.execute(f"DELETE FROM {table} WHERE run_id = ? AND target = ?",  # noqa: S608
                               (run_id, ev.target))
                insert_evaluation(db, run_id, ev, predictions=False)


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> ResultsStore:
    """The store at ``path``, by default the data home's ``results.sqlite``.

    Damage (an empty, foreign or truncated file) and a read-only store raise
    :class:`StoreError` naming the file and what to do; ``read_only`` writes nothing.
    """
    from bench.home import data_home, store_path

    if path is None:  # reading must not need a writable data home
        path = data_home(create=False) / "results.sqlite" if read_only else store_path()
    return ResultsStore(path, read_only=read_only)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
