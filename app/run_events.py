"""A run's events in the database: every per-batch point, the per-epoch rows, the start and final events.

Mixed into ``Store`` (``app/store.py``) and kept apart because it is a concept of its own: how
the engine's events are written (one transaction per flush, the final status with the last of
them) and read back as the column arrays of ``/metrics`` and the socket frames.
"""
from __future__ import annotations

import json
import math
import sqlite3
import time
from typing import TYPE_CHECKING, Any, Sequence

from engine.events import BatchEvent, DoneEvent, EpochEvent, Event, StartEvent, event_to_dict, to_jsonable

from .insight import INSIGHT_FIELDS, RESULT_SCALARS, split_final
from .run_view import step_facts

if TYPE_CHECKING:
    from .database import Database

BATCH_COLUMNS = ("seq", "step", "epoch", "batch", "loss", "data_loss", "penalty")
EPOCH_COLUMNS = ("seq", "epoch", "step", "train_loss", "data_loss", "penalty", "train_accuracy", "test_loss",
                 "test_accuracy", "sparsity", "seconds", "train_seconds", "weights", "trajectory")
EPOCH_RESULT_FIELDS = ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "data_loss", "penalty", "sparsity")
RESULT_FIELDS = ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "data_loss", "penalty",
                 "sparsity", "l1_norm", "l2_norm", "dead_units", "seconds", *RESULT_SCALARS)


class RunEvents:
    """Writing and reading runs' events; mixed into ``Store``, whose ``Database`` gives the connections."""

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


def _real(x: float) -> float | None:
    """SQLite cannot keep NaN (it becomes NULL anyway); infinities are kept."""
    return None if isinstance(x, float) and math.isnan(x) else x


def _columns(names: Sequence[str], rows: Sequence[sqlite3.Row]) -> dict[str, list]:
    cols = {name: [r[i] for r in rows] for i, name in enumerate(names)}
    for name in ("loss", "data_loss", "penalty", "train_loss", "test_loss"):
        if name in cols:
            cols[name] = ["NaN" if v is None else to_jsonable(v) for v in cols[name]]
    return cols


def _last_epoch_parts(pending_epochs: list, store: Database, run_id: int) -> dict:
    """data_loss and penalty of the last epoch (the done event carries only their sum)."""
    if pending_epochs:
        row = pending_epochs[-1]
        return {"data_loss": row[5], "penalty": row[6]}
    last = store.connection().execute("SELECT data_loss, penalty FROM epochs WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
                                      (run_id,)).fetchone()
    return {"data_loss": last[0], "penalty": last[1]} if last else {}
