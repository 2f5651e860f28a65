"""The results store: SQLite in WAL mode, one transaction per state change.

A run is one cell of the benchmark matrix, identified by (model, source, seed, protocol hash,
source split fingerprint, initialisation). Its id is derived from that key, so two processes that
want the same cell meet on the same row: one claims it, the other skips it, and nothing is
recorded twice.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import shutil
import socket
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cell import Cell
from bench.errors import BenchError
from bench.migration import SCHEMA_VERSION, legacy_identity, migrate_schema, with_identity

if TYPE_CHECKING:
    import pandas as pd

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


def _insert_evaluation(db: sqlite3.Connection, run_id: str, ev: Evaluation, *,
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


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(owner: str | None) -> bool:
    """False only when the owner ran on this host and its process is gone (killed, crashed)."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: only its heartbeat can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


STALE_AFTER = 600.0  # seconds without a heartbeat after which a running cell is abandoned


def run_alive(owner: str | None, heartbeat: float | None, *, now: float | None = None,
              stale_after: float = STALE_AFTER) -> bool:
    """Whether a `running` row's process still works on it (the test claim's takeover uses).

    A row whose heartbeat stopped, or whose process on this host is gone, was interrupted
    (killed, crashed, power loss): its checkpoints let the next `bench run` resume it.
    """
    now = time.time() if now is None else now
    return heartbeat is not None and now - heartbeat < stale_after and _process_alive(owner)


class StoreError(BenchError):
    """The results store cannot be opened or written; the message names the file and the fix."""


SQLITE_MAGIC = b"SQLite format 3\x00"


def _damaged(path: Path, detail: str) -> StoreError:
    return StoreError(
        f"the results store {path} is damaged ({detail}). Move it aside, e.g. "
        f"`mv {path} {path}.damaged` (bench never overwrites it): the next `bench run` starts a "
        f"new store and re-tests finished cells from their checkpoints in runs/ without "
        f"training them again; `sqlite3 {path}.damaged .recover` may salvage old rows."
    )


def _read_only(path: Path) -> StoreError:
    return StoreError(
        f"the results store {path} (or its folder) is read-only, so bench cannot record "
        f"results in it. Make both writable (chmod u+w), or set BENCH_HOME to a writable data "
        f"home; commands that only read (runs list, runs show, leaderboard) work as they are."
    )


LOW_SPACE = 1 << 20  # free bytes below which a failed store read or write is the full disk


def _low_space(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < LOW_SPACE
    except OSError:
        return False


def _no_space(path: Path) -> StoreError:
    return StoreError(
        f"no space left on {path.parent}: the results store {path} cannot be written (SQLite "
        f"needs some free room beside it, at times even for reading). The store is not damaged "
        f"and nothing recorded was lost. Free some space and give the same command again."
    )


def _intact(path: Path) -> bool:
    """Whether the store's file passes SQLite's integrity check, read as is (writing nothing)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1",
                                                uri=True)) as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        return False


def _translate(exc: BaseException, path: Path) -> BaseException:
    """The error a user can act on for a failed SQLite call (pandas wraps sqlite3's).

    An error is called damage only when the file fails SQLite's integrity check: a full disk,
    or an I/O error on an intact store, says so and keeps the store.
    """
    cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__
    if not isinstance(cause, sqlite3.Error):
        return exc
    text = str(cause)
    name = getattr(cause, "sqlite_errorname", "")
    if "readonly" in text or "read-only" in text:
        return _read_only(path)
    if name == "SQLITE_FULL" or "disk is full" in text:
        return _no_space(path)
    if "locked" in text or "busy" in text:
        return StoreError(f"the results store {path} stayed locked by another process for a "
                          f"minute ({text}); give the command again once it is done.")
    if _low_space(path) and (name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN"))
                             or "disk I/O error" in text or "unable to open" in text):
        return _no_space(path)
    if "unable to open" in text:
        return StoreError(f"cannot open the results store {path} ({text}): check that its "
                          f"folder exists and can be read.")
    if path.is_file() and _intact(path):
        return StoreError(f"SQLite could not use the results store {path} ({text}), though the "
                          f"store passes SQLite's integrity check: it is not damaged, keep it. "
                          f"Check the disk (`dmesg`, free space) and give the command again.")
    return _damaged(path, text)


def _check_file(path: Path) -> None:
    """Refuse an empty, foreign or truncated file before SQLite reads (or writes) it."""
    size = path.stat().st_size
    if size == 0:
        raise _damaged(path, "it is empty, 0 bytes: not a results store")
    with path.open("rb") as stream:
        header = stream.read(100)
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        raise _damaged(path, "it is not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size_valid = header[24:28] == header[92:96]  # SQLite's rule for trusting the page count
    # With a write-ahead log present the main file may lag behind it: only a closed store is
    # held to its page count.
    wal = path.with_name(path.name + "-wal")
    if size_valid and not wal.exists() and size < pages * page_size:
        raise _damaged(path, f"it is truncated: {size} of {pages * page_size} bytes")


def _log_pending(path: Path) -> bool:
    """Whether the store's write-ahead log holds changes not yet in the main file."""
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


class ResultsStore:
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
                _check_file(self.path)
                # A WAL store needs its -shm file; where it cannot be made, read it as is.
                shm = self.path.with_name(self.path.name + "-shm")
                self._immutable = not shm.exists() and not os.access(self.path.parent, os.W_OK)
                try:
                    self._probe()
                except StoreError:
                    # A full disk has no room for that index either; a store with no pending
                    # log is whole in its file, so read the file as is.
                    if self._immutable or not _low_space(self.path) or _log_pending(self.path):
                        raise
                    self._immutable = True
                    self._probe()
            return
        if self.path.exists():
            _check_file(self.path)
            if not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
                raise _read_only(self.path)
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
                raise _read_only(self.path) from exc
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
                raise (_no_space(self.path) if _low_space(self.path) else StoreError(
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
            raise _translate(exc, self.path) from exc
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA foreign_keys=ON")
            if target == ":memory:":
                db.executescript(SCHEMA)
            yield db
        except StoreError:
            raise
        except Exception as exc:
            translated = _translate(exc, self.path)
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
        owner = owner or _owner()
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
                and _process_alive(row["owner"])
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
                _insert_evaluation(db, run_id, ev)
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
                _insert_evaluation(db, run_id, ev)
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

    # -- reading --------------------------------------------------------------------------

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

    def replace_scores(self, run_id: str, evaluations: Sequence[Evaluation]) -> None:
        """Rewrite the scores of some targets of a finished run (re-scoring); predictions stay."""
        with self._transaction() as db:
            for ev in evaluations:
                for table in ("evaluations", "scores"):
                    db.execute(f"DELETE FROM {table} WHERE run_id = ? AND target = ?",  # noqa: S608
                               (run_id, ev.target))
                _insert_evaluation(db, run_id, ev, predictions=False)


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
