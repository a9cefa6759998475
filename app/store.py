"""The SQLite store: runs, their per-epoch rows and every per-batch point.

One connection per thread (SQLite connections belong to their thread), closed by the thread
when it is done with the store (``release``); WAL mode so readers never block the writer;
writes started with ``BEGIN IMMEDIATE`` and batched: a run's events are written in one
transaction per flush (at least once per epoch).
"""
from __future__ import annotations

import bisect
import json
import math
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from engine.events import BatchEvent, DoneEvent, EpochEvent, Event, StartEvent, event_to_dict, to_jsonable

from .insight import INSIGHT_FIELDS, RESULT_SCALARS, split_final
from .migrations import migrate
from .run_view import step_facts

if TYPE_CHECKING:
    from .runs_query import RunFilter

SCHEMA_VERSION = 4  # app.migrations brings older files up to it
FINISHED = ("completed", "failed", "cancelled", "interrupted")
BATCH_COLUMNS = ("seq", "step", "epoch", "batch", "loss", "data_loss", "penalty")
EPOCH_COLUMNS = ("seq", "epoch", "step", "train_loss", "data_loss", "penalty", "train_accuracy", "test_loss",
                 "test_accuracy", "sparsity", "seconds", "train_seconds", "weights", "trajectory")
EPOCH_RESULT_FIELDS = ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "data_loss", "penalty", "sparsity")
RESULT_FIELDS = ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "data_loss", "penalty",
                 "sparsity", "l1_norm", "l2_norm", "dead_units", "seconds", *RESULT_SCALARS)


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


class NoRoom(Exception):
    """Queuing would take the queued runs of that kind past their limit; ``waiting`` are queued now."""

    def __init__(self, waiting: int):
        super().__init__(f"{waiting} runs are waiting")
        self.waiting = waiting


@dataclass(frozen=True)
class NewRun:
    """A run to queue: its settings (a RunConfig as a dict), its label and its comparison group."""

    settings: dict
    label: str
    group: str | None = None


@dataclass(frozen=True)
class NewStudy:
    """A study to create together with its runs."""

    name: str
    spec: dict


class Store:
    """Plain functions over one SQLite file, each thread with its own connection."""

    def __init__(self, path: str | Path, timeout: float = 10.0):
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()
        self._connections: set[sqlite3.Connection] = set()  # the open ones, for close()
        self._lock = threading.Lock()

    # -- connections ---------------------------------------------------------------
    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use and kept until ``release()``."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=True)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            # The label search's: SQLite's lower() and LIKE fold ASCII letters only, labels are any text (λ, Ä, ß).
            conn.create_function("casefold", 1, str.casefold, deterministic=True)
            self._local.conn = conn
            with self._lock:
                self._connections.add(conn)
        return conn

    def release(self) -> None:
        """Close this thread's connection, if it has one (it reopens on next use).

        Every thread that used the store calls this when it is done: a request (a socket too)
        on teardown, a job worker as it ends. The server starts a thread per HTTP connection,
        and a connection left open holds its files and cache until shutdown.
        """
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._lock:
            self._connections.discard(conn)  # close() may have cleared it already
        conn.close()

    @property
    def open_connections(self) -> int:
        """How many connections are open now (one per thread using the store)."""
        with self._lock:
            return len(self._connections)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken with BEGIN IMMEDIATE (no SQLITE_BUSY half-way through)."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection still open (call at shutdown)."""
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass  # opened by another thread that already ended; the OS reclaims it
            self._connections.clear()
        self._local = threading.local()

    # -- schema --------------------------------------------------------------------
    def initialize(self) -> None:
        """Create or check the schema; refuse files that are not ours or are newer."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self.connection()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer normlab (schema version {version}; "
                                 f"this one understands {SCHEMA_VERSION}). Upgrade normlab or use another --db.")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: could not switch to WAL mode (got {mode})")
            if version:  # a file of ours from before: its missing columns first, then any new table or index
                migrate(conn, version, SCHEMA_VERSION)
            schema = resources.files("app").joinpath("schema.sql").read_text()
            conn.executescript(schema)  # IF NOT EXISTS throughout: what a new or migrated file lacks
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"cannot use the database {self.path}: {exc}. "
                             f"Check that it is a normlab database you may write, or pass another --db.") from exc

    # -- runs ----------------------------------------------------------------------
    def create_run(self, settings: dict, label: str, group: str | None = None, study_id: int | None = None) -> int:
        """Store a queued run, whatever the queue holds (``queue_runs`` is the one that keeps limits)."""
        with self.transaction() as conn:
            return _insert_run(conn, NewRun(settings, label, group), study_id)

    def queue_runs(self, runs: Sequence[NewRun], limit: int,
                   study: NewStudy | None = None) -> tuple[int | None, list[int]]:
        """Store ``runs`` as queued (with ``study``, as that new study's runs), all or none.

        Refused with NoRoom when the queued runs of their kind (study runs, or runs launched
        on their own) would exceed ``limit``. The count and the inserts are one write
        transaction, so simultaneous requests cannot both take the last places.
        Returns the study's id (None without one) and the runs' ids.
        """
        with self.transaction() as conn:
            waiting = _count_queued(conn, study is not None)
            if waiting + len(runs) > limit:
                raise NoRoom(waiting)
            study_id = None
            if study is not None:
                study_id = int(conn.execute("INSERT INTO studies (created, name, spec) VALUES (?, ?, ?)",
                                            (time.time(), study.name, json.dumps(study.spec))).lastrowid)
            return study_id, [_insert_run(conn, run, study_id) for run in runs]

    def count_queued(self, study_runs: bool) -> int:
        """How many study runs (or runs launched on their own) are queued."""
        return _count_queued(self.connection(), study_runs)

    # -- studies -------------------------------------------------------------------
    def get_study(self, study_id: int) -> dict | None:
        if not _is_row_id(study_id):
            return None
        row = self.connection().execute("SELECT * FROM studies WHERE id = ?", (study_id,)).fetchone()
        return {**dict(row), "spec": json.loads(row["spec"])} if row else None

    def list_studies(self) -> list[dict]:
        rows = self.connection().execute("SELECT * FROM studies ORDER BY id DESC").fetchall()
        return [{**dict(r), "spec": json.loads(r["spec"])} for r in rows]

    def study_counts(self) -> dict[int, dict[str, int]]:
        """Per study, how many of its runs have each status."""
        rows = self.connection().execute(
            "SELECT study_id, status, COUNT(*) FROM runs WHERE study_id IS NOT NULL GROUP BY study_id, status").fetchall()
        counts: dict[int, dict[str, int]] = {}
        for study_id, status, n in rows:
            counts.setdefault(study_id, {})[status] = n
        return counts

    def fold_studies(self, where: RunFilter, above: int | None, upto: int | None) -> tuple[list[dict], int]:
        """The studies with a run matching ``where`` (its study parts aside) whose newest run's id is
        above ``above`` and at most ``upto`` (either end open when None), newest first: each study's
        row, how many of its runs match, its runs' counts by status, its newest run's id, its best
        completed run (the earliest of the best) and its running runs' rows. And how many studies
        have a matching run at all."""
        conn = self.connection()
        sql, args = _where(replace(where, study=None, no_study=False))
        matching = dict(conn.execute(f"SELECT study_id, COUNT(*) FROM runs WHERE study_id IS NOT NULL AND {sql} "
                                     "GROUP BY study_id", args).fetchall())
        if not matching:
            return [], 0
        stats: dict[int, dict[str, Any]] = {}
        for study_id, status, n, newest in conn.execute(
                f"SELECT study_id, status, COUNT(*), MAX(id) FROM runs WHERE study_id IN ({_marks(matching)}) "
                "GROUP BY study_id, status", list(matching)):
            entry = stats.setdefault(study_id, {"counts": {}, "newest_run": 0})
            entry["counts"][status] = n
            entry["newest_run"] = max(entry["newest_run"], newest)
        kept = [i for i, e in stats.items() if (above is None or e["newest_run"] > above)
                and (upto is None or e["newest_run"] <= upto)]
        if not kept:
            return [], len(matching)
        studies = {r["id"]: r for r in conn.execute(f"SELECT * FROM studies WHERE id IN ({_marks(kept)})", kept)}
        best_ids = [row[0] for i in kept if (row := conn.execute(
            "SELECT id FROM runs WHERE status = 'completed' AND study_id = ? AND accuracy IS NOT NULL "
            "ORDER BY accuracy DESC, id LIMIT 1", (i,)).fetchone())]
        best = {r["study_id"]: r for r in conn.execute(
            "SELECT study_id, id, label, penalty, json_extract(settings, '$.lam') AS lam, accuracy AS test_accuracy "
            f"FROM runs WHERE id IN ({_marks(best_ids)})", best_ids)}
        running: dict[int, list[dict]] = {}
        for row in conn.execute(f"SELECT * FROM runs WHERE status = 'running' AND study_id IN ({_marks(kept)})", kept):
            running.setdefault(row["study_id"], []).append(_run_row(row))
        out = [{"study": {**dict(studies[i]), "spec": json.loads(studies[i]["spec"])}, "matching": matching[i],
                **stats[i], "best": dict(best[i]) if i in best else None, "running": running.get(i, [])}
               for i in kept if i in studies]
        return sorted(out, key=lambda e: -e["newest_run"]), len(matching)

    def study_runs(self, study_id: int) -> list[dict]:
        rows = self.connection().execute("SELECT * FROM runs WHERE study_id = ? ORDER BY id", (study_id,)).fetchall()
        return [_run_row(r) for r in rows]

    def delete_study(self, study_id: int) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM studies WHERE id = ?", (study_id,)).rowcount > 0

    def get_run(self, run_id: int) -> dict | None:
        if not _is_row_id(run_id):
            return None
        row = self.connection().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_row(row) if row else None

    def list_runs(self, group: str | None = None) -> list[dict]:
        if group is None:
            rows = self.connection().execute("SELECT * FROM runs ORDER BY id DESC").fetchall()
        else:
            rows = self.connection().execute("SELECT * FROM runs WHERE grp = ? ORDER BY id", (group,)).fetchall()
        return [_run_row(r) for r in rows]

    def find_runs(self, where: RunFilter, before: int | None = None, limit: int = 100) -> tuple[list[dict], int]:
        """Runs matching ``where`` with ids below ``before`` (any when None), newest first, at most
        ``limit``; and how many match in all."""
        sql, args = _where(where)
        conn = self.connection()
        if where.label:  # every label must be read (in Python): once, for the page and the count together
            ids = [r[0] for r in conn.execute(f"SELECT id FROM runs WHERE {sql} ORDER BY id DESC", args)]
            start = 0 if before is None else bisect.bisect_right(ids, -before, key=lambda i: -i)  # first id < before
            total, wanted = len(ids), ids[start:start + limit]
        else:  # index lookups only: the count never reads a row
            total = conn.execute(f"SELECT COUNT(*) FROM runs WHERE {sql}", args).fetchone()[0]
            page_sql = sql if before is None else f"{sql} AND id < ?"
            wanted = [r[0] for r in conn.execute(f"SELECT id FROM runs WHERE {page_sql} ORDER BY id DESC LIMIT ?",
                                                 (*args, *([] if before is None else [before]), limit))]
        if not wanted:
            return [], total
        rows = conn.execute(f"SELECT * FROM runs WHERE id IN ({_marks(wanted)}) ORDER BY id DESC", wanted).fetchall()
        return [_run_row(r) for r in rows], total

    def best_runs(self, runs: Sequence[dict]) -> set[int]:
        """Which of ``runs`` have the best test accuracy for their penalty among the completed runs with
        the same comparable settings (the earliest, when several share it): one index seek per group."""
        groups = {(r["comparable"], r["penalty"]) for r in runs if r["status"] == "completed"}
        conn = self.connection()
        best = set()
        for comparable, penalty in groups:
            row = conn.execute("SELECT id FROM runs WHERE status = 'completed' AND comparable = ? AND penalty = ? "
                               "AND accuracy IS NOT NULL ORDER BY accuracy DESC, id LIMIT 1",
                               (comparable, penalty)).fetchone()
            if row is not None:
                best.add(row[0])
        return best & {r["id"] for r in runs}

    def run_ids_with_status(self, status: str) -> list[int]:
        rows = self.connection().execute("SELECT id FROM runs WHERE status = ? ORDER BY id", (status,)).fetchall()
        return [r[0] for r in rows]

    def set_status(self, run_id: int, status: str, reason: str | None = None, *, only_from: Sequence[str] = ()) -> bool:
        """Change a run's status; with ``only_from``, only if it currently has one of those. Returns whether it changed."""
        now = time.time()
        sets = "status = ?, reason = ?"
        if status == "running":
            sets += ", started = ?"
        elif status in FINISHED:
            sets += ", finished = ?"
        args: list[Any] = [status, reason] + ([now] if status == "running" or status in FINISHED else [])
        where = "id = ?"
        args.append(run_id)
        if only_from:
            where += f" AND status IN ({','.join('?' * len(only_from))})"
            args.extend(only_from)
        with self.transaction() as conn:
            return conn.execute(f"UPDATE runs SET {sets} WHERE {where}", args).rowcount > 0

    def cancel_queued_runs(self, study_id: int, reason: str) -> list[int]:
        """Cancel every queued run of the study at once (a worker then never starts them); their ids."""
        with self.transaction() as conn:
            rows = conn.execute("UPDATE runs SET status = 'cancelled', reason = ?, finished = ? "
                                "WHERE study_id = ? AND status = 'queued' RETURNING id",
                                (reason, time.time(), study_id)).fetchall()
        return sorted(r[0] for r in rows)

    def mark_interrupted(self) -> list[int]:
        """Runs left 'running' by a server that stopped become 'interrupted' (their curves are kept)."""
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM runs WHERE status = 'running'")]
            conn.execute("UPDATE runs SET status = 'interrupted', finished = ?, "
                         "reason = 'the server stopped while this run was running; its curves are kept up to the last saved epoch' "
                         "WHERE status = 'running'", (time.time(),))
        return ids

    def delete_run(self, run_id: int) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount > 0

    # -- events --------------------------------------------------------------------
    def record(self, run_id: int, events: Sequence[Event], final_status: str | None = None,
               reason: str | None = None) -> None:
        """Write a run's new events in one transaction; with ``final_status``, end the run too."""
        batches, epochs, updates, insight = [], [], {}, None
        for e in events:
            if isinstance(e, BatchEvent):
                batches.append((run_id, e.seq, e.step, e.epoch, e.batch, _real(e.loss), _real(e.data_loss), _real(e.penalty)))
            elif isinstance(e, EpochEvent):
                d = to_jsonable(e)
                epochs.append((run_id, e.seq, e.epoch, e.step, *(_real(getattr(e, c)) for c in EPOCH_COLUMNS[3:-2]),
                               json.dumps(d["weights"]), json.dumps(d["trajectory"])))
                updates["result"] = json.dumps({k: d[k] for k in EPOCH_RESULT_FIELDS})
            elif isinstance(e, StartEvent):
                updates["start_event"] = json.dumps(event_to_dict(e))
            else:
                final, insight = split_final(event_to_dict(e))
                updates["final_event"] = json.dumps(final)
                if isinstance(e, DoneEvent):
                    updates["result"] = json.dumps({k: final.get(k) for k in RESULT_FIELDS} | _last_epoch_parts(epochs, self, run_id))
        progress = step_facts(events)  # the raw facts app.run_view works out a stored run's progress from
        with self.transaction() as conn:
            if batches:
                conn.executemany("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batches)
            if epochs:
                conn.executemany(f"INSERT INTO epochs (run_id, {', '.join(EPOCH_COLUMNS)}) "
                                 f"VALUES ({','.join('?' * (len(EPOCH_COLUMNS) + 1))})", epochs)
            if events:
                updates["last_seq"] = events[-1].seq
            if progress:
                updates["progress"] = json.dumps(progress)
            if final_status:
                updates.update(status=final_status, reason=reason, finished=time.time())
            if updates:
                conn.execute(f"UPDATE runs SET {', '.join(k + ' = ?' for k in updates)} WHERE id = ?",
                             (*updates.values(), run_id))
            for e in events:
                if isinstance(e, DoneEvent):
                    _store_artifacts(conn, run_id, e, insight)

    def read_events(self, run_id: int, after_seq: int = -1) -> dict[str, Any]:
        """The stored events after ``after_seq`` as column arrays (see README, /metrics).

        All reads happen in one read transaction, so the answer is one consistent snapshot:
        nothing in it lies beyond its ``last_seq``, even while the run is being written.
        """
        conn = self.connection()
        conn.execute("BEGIN")
        try:
            return self._read_events(conn, run_id, after_seq)
        finally:
            conn.execute("COMMIT")

    def _read_events(self, conn: sqlite3.Connection, run_id: int, after_seq: int) -> dict[str, Any]:
        run = conn.execute("SELECT start_event, final_event, last_seq FROM runs WHERE id = ?", (run_id,)).fetchone()
        out: dict[str, Any] = {"run": run_id, "last_seq": run["last_seq"] if run else -1}
        if run is None:
            return out
        start = json.loads(run["start_event"]) if run["start_event"] else None
        if start and start["seq"] > after_seq:
            out["start"] = start
        rows = conn.execute(f"SELECT {', '.join(BATCH_COLUMNS)} FROM batches WHERE run_id = ? AND seq > ? ORDER BY seq",
                            (run_id, after_seq)).fetchall()
        out["batch"] = _columns(BATCH_COLUMNS, rows)
        rows = conn.execute(f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epochs WHERE run_id = ? AND seq > ? ORDER BY seq",
                            (run_id, after_seq)).fetchall()
        out["epoch"] = _columns(EPOCH_COLUMNS, rows)
        out["epoch"]["weights"] = [json.loads(w) for w in out["epoch"]["weights"]]
        # Runs stored before trajectories were kept have None for them.
        out["epoch"]["trajectory"] = [None if t is None else json.loads(t) for t in out["epoch"]["trajectory"]]
        final = json.loads(run["final_event"]) if run["final_event"] else None
        if final and final["seq"] > after_seq:
            out["final"] = final
        return out

    def first_layer(self, run_id: int):
        """The run's first-layer weight images as a (hidden, 28, 28) float32 array, or None."""
        import numpy as np

        row = self.connection().execute("SELECT first_layer, shape FROM artifacts WHERE run_id = ?", (run_id,)).fetchone()
        if row is None or row["first_layer"] is None:
            return None
        return np.frombuffer(row["first_layer"], dtype="<f4").reshape(json.loads(row["shape"]))

    def insight(self, run_id: int) -> dict[str, Any] | None:
        """The run's insight (``app.insight.INSIGHT_FIELDS``), or None: not finished, or finished before it was kept."""
        row = self.connection().execute("SELECT insight FROM artifacts WHERE run_id = ?", (run_id,)).fetchone()
        return json.loads(row["insight"]) if row is not None and row["insight"] else None

    def study_unit_norms(self, study_id: int) -> dict[int, list[float]]:
        """Run id → sorted unit norms for the study's runs that have them (the regularisation path).

        SQLite picks the one list out of each run's insight, so the rest is never parsed here.
        """
        rows = self.connection().execute(
            "SELECT a.run_id, json_extract(a.insight, '$.unit_norms') FROM artifacts a JOIN runs r ON r.id = a.run_id "
            "WHERE r.study_id = ? AND a.insight IS NOT NULL", (study_id,)).fetchall()
        return {run_id: json.loads(norms) for run_id, norms in rows if norms}


    def study_insight(self, study_id: int, keys: Sequence[str]) -> dict[int, dict[str, Any]]:
        """Run id → ``{key: part}`` of its insight for the study's runs that have one (``keys`` among
        ``app.insight.INSIGHT_FIELDS``; a part a run lacks is None). SQLite picks the parts out."""
        unknown = [k for k in keys if k not in INSIGHT_FIELDS]
        if unknown:
            raise ValueError(f"keys: {unknown[0]!r} is not a part of a run's insight")
        parts = ", ".join(f"json_extract(a.insight, '$.{k}')" for k in keys)
        rows = self.connection().execute(
            f"SELECT a.run_id, {parts} FROM artifacts a JOIN runs r ON r.id = a.run_id "
            "WHERE r.study_id = ? AND a.insight IS NOT NULL", (study_id,)).fetchall()
        return {row[0]: {k: json.loads(v) if v is not None else None for k, v in zip(keys, row[1:])} for row in rows}


def _store_artifacts(conn: sqlite3.Connection, run_id: int, done: DoneEvent, insight: dict[str, Any] | None) -> None:
    """The done event's first-layer images (none unless the inputs are 28 × 28) and its insight."""
    images = done.first_layer
    blob, shape = (images.astype("<f4").tobytes(), json.dumps(list(images.shape))) if images.size else (None, None)
    conn.execute("INSERT OR REPLACE INTO artifacts (run_id, first_layer, shape, insight) VALUES (?, ?, ?, ?)",
                 (run_id, blob, shape, json.dumps(insight) if insight is not None else None))


def _insert_run(conn: sqlite3.Connection, run: NewRun, study_id: int | None) -> int:
    cur = conn.execute(
        "INSERT INTO runs (created, status, label, grp, study_id, settings) VALUES (?, 'queued', ?, ?, ?, ?)",
        (time.time(), run.label, run.group, study_id, json.dumps(run.settings)))
    return int(cur.lastrowid)


def _where(where: RunFilter) -> tuple[str, list[Any]]:
    """The SQL condition (and its arguments) of a runs filter; each part is an index lookup but the label's."""
    clauses: list[str] = []
    args: list[Any] = []
    if where.study is not None:
        clauses.append("study_id = ?")
        args.append(where.study)
    if where.no_study:
        clauses.append("study_id IS NULL")
    for column, values in (("dataset", where.datasets), ("status", where.statuses), ("penalty", where.penalties)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            args.extend(values)
    if where.label:
        clauses.append("instr(casefold(label), ?) > 0")  # a substring: no wildcard to escape
        args.append(where.label)
    return " AND ".join(clauses) or "1", args


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _count_queued(conn: sqlite3.Connection, study_runs: bool) -> int:
    where = "study_id IS NOT NULL" if study_runs else "study_id IS NULL"
    return conn.execute(f"SELECT COUNT(*) FROM runs WHERE status = 'queued' AND {where}").fetchone()[0]


def _is_row_id(value: int) -> bool:
    """SQLite row ids are 64-bit; larger numbers name nothing (and would overflow the binding)."""
    return 0 < value < 2**63


def _real(x: float) -> float | None:
    """SQLite cannot keep NaN (it becomes NULL anyway); infinities are kept."""
    return None if isinstance(x, float) and math.isnan(x) else x


def _columns(names: Sequence[str], rows: Sequence[sqlite3.Row]) -> dict[str, list]:
    cols = {name: [r[i] for r in rows] for i, name in enumerate(names)}
    for name in ("loss", "data_loss", "penalty", "train_loss", "test_loss"):
        if name in cols:
            cols[name] = ["NaN" if v is None else to_jsonable(v) for v in cols[name]]
    return cols


def _last_epoch_parts(pending_epochs: list, store: Store, run_id: int) -> dict:
    """data_loss and penalty of the last epoch (the done event carries only their sum)."""
    if pending_epochs:
        row = pending_epochs[-1]
        return {"data_loss": row[5], "penalty": row[6]}
    last = store.connection().execute("SELECT data_loss, penalty FROM epochs WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
                                      (run_id,)).fetchone()
    return {"data_loss": last[0], "penalty": last[1]} if last else {}


def _run_row(row: sqlite3.Row) -> dict:
    d = dict(row)
    for key in ("settings", "start_event", "final_event", "result", "progress"):
        d[key] = json.loads(d[key]) if d[key] else None
    return d
