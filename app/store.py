"""The store: runs and studies in the SQLite file, and their events.

The one owner of what is stored. Connections, transactions and the schema are
``app/database.py``'s; a run's events are ``app/run_events.py``'s, mixed in so that callers
have one object.
"""
from __future__ import annotations

import bisect
import json
import sqlite3
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Sequence

from .database import SCHEMA_VERSION, Database, StoreError
from .run_events import RunEvents

if TYPE_CHECKING:
    from .runs_query import RunFilter

__all__ = ["FINISHED", "SCHEMA_VERSION", "NewRun", "NewStudy", "NoRoom", "Store", "StoreError"]

FINISHED = ("completed", "failed", "cancelled", "interrupted")


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


class Store(Database, RunEvents):
    """Runs, studies and their events over one SQLite file (``Database`` holds the connections)."""

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


def _run_row(row: sqlite3.Row) -> dict:
    d = dict(row)
    for key in ("settings", "start_event", "final_event", "result", "progress"):
        d[key] = json.loads(d[key]) if d[key] else None
    return d
