"""A run as the server shows it: the one place its progress, timing and result are worked out.

Every API answer, socket ``run`` message, frame entry and page takes a run from here: the stored
row, overlaid with the hub's facts while the run is live. The store and the hub record raw facts
only (the start event, the latest step event, when training began, the final event); pages format
what this module returns and work out nothing of their own (see README, "The run view").
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from engine.events import BatchEvent, EpochEvent, Event

if TYPE_CHECKING:
    from .hub import LiveFacts, StreamHub

LIVE = ("queued", "running")
# The status a run ends with, by its final event's kind (a run cut short by shutdown is "interrupted").
FINAL_STATUS = {"done": "completed", "failed": "failed", "cancelled": "cancelled"}


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def step_facts(events: Sequence[Event], last: int | None = None) -> dict[str, Any] | None:
    """The raw facts the store and the hub keep of a run's position: the kind, step and epoch of
    the last batch or epoch event in ``events`` (up to index ``last``).

    Both kinds are kept as they are: a batch's ``epoch`` is the epoch being trained, an epoch
    event's the one just completed; ``Position`` tells them apart.
    """
    for i in range(len(events) - 1 if last is None else last, -1, -1):  # back from the end, no copy
        event = events[i]
        if isinstance(event, (BatchEvent, EpochEvent)):
            return {"kind": event.kind, "step": event.step, "epoch": event.epoch}
    return None


@dataclass(frozen=True)
class Position:
    """Where a run is, from the store or the hub, before anything is worked out from it."""

    status: str
    epochs: int
    total_steps: int | None
    step: int
    epochs_done: int
    started_at: float | None  # when training began: the clock of the ETA and the elapsed time
    finished_at: float | None
    seconds: float | None  # the engine's own measure of the run's time, once it ended

    @classmethod
    def of_row(cls, row: dict[str, Any], live: LiveFacts | None = None) -> Position:
        """The stored row's position, with the hub's newer facts while the run is running."""
        start = row.get("start_event") or {}
        final = row.get("final_event") or {}
        latest = row.get("progress")
        epochs = start.get("epochs", row["settings"]["epochs"])
        total, started = start.get("total_steps"), row["started"]
        if live is not None:
            latest = live.latest or latest
            epochs, total, started = live.epochs, live.total_steps, live.started_at
        return cls(row["status"], epochs, total, *_step_and_epochs_done(latest), started, row["finished"],
                   final.get("seconds"))

    @classmethod
    def of_live(cls, live: LiveFacts) -> Position:
        """A position from the hub alone: running until the log holds the final event, which the
        hub gets only once the store holds the final status."""
        final = live.final
        status = FINAL_STATUS[final.kind] if final is not None else "running"
        return cls(status, live.epochs, live.total_steps, *_step_and_epochs_done(live.latest), live.started_at,
                   None, getattr(final, "seconds", None))


def _step_and_epochs_done(latest: dict[str, Any] | None) -> tuple[int, int]:
    if not latest:
        return 0, 0
    # Rows written before "kind" was kept hold an epoch event's numbers or the last batch's; read as done.
    done = latest["epoch"] - 1 if latest.get("kind") == "batch" else latest["epoch"]
    return latest["step"], done


def progress(position: Position, now: float | None = None) -> dict[str, Any]:
    """Steps and epochs done, the epoch being trained, the fraction done, the time so far and left."""
    p = position
    now = time.time() if now is None else now
    completed = p.status == "completed"
    if completed:
        fraction, current = 1.0, p.epochs
    else:
        fraction = min(1.0, p.step / p.total_steps) if p.total_steps else 0.0
        current = min(p.epochs, p.epochs_done + 1) if p.status == "running" or p.step > 0 else 0
    elapsed = _elapsed(p, now)
    eta = None
    if p.status == "running" and p.total_steps and p.step > 0 and elapsed:
        eta = round(elapsed * (p.total_steps - p.step) / p.step, 1)  # at the run's rate so far
    return {"epoch": p.epochs_done, "current_epoch": current, "epochs": p.epochs, "step": p.step,
            "total_steps": p.total_steps, "fraction": round(fraction, 4), "eta_seconds": eta,
            "elapsed_seconds": elapsed}


def _elapsed(p: Position, now: float) -> float | None:
    """Seconds of training so far: the engine's measure once it ended, the clock before."""
    if p.seconds is not None and p.status not in LIVE:
        return p.seconds
    if p.started_at is None:
        return None
    end = p.finished_at if p.status not in LIVE and p.finished_at is not None else now
    return round(max(0.0, end - p.started_at), 3)


def run_view(row: dict[str, Any], hub: StreamHub | None = None, now: float | None = None) -> dict[str, Any]:
    """A run as every answer, message and page shows it (README, "The run view").

    While it runs, its position comes from the hub (ahead of the store by up to an epoch's
    batches); once it has ended, from the store alone.
    """
    live = hub.facts(row["id"]) if hub is not None and row["status"] == "running" else None
    shown = progress(Position.of_row(row, live), now)
    result = dict(row["result"]) if row.get("result") else None  # the latest epoch's values, then the final ones
    if result is not None and shown["elapsed_seconds"] is not None:
        result["seconds"] = shown["elapsed_seconds"]
    return {
        "id": row["id"],
        "status": row["status"],
        "reason": row["reason"],
        "label": row["label"],
        "group": row["grp"],
        "study": row.get("study_id"),
        "created": iso(row["created"]),
        "started": iso(row["started"]),
        "finished": iso(row["finished"]),
        "settings": row["settings"],
        "live": row["status"] in LIVE,
        "progress": shown,
        "result": result,
    }


def live_progress(hub: StreamHub, run_id: int, upto_seq: int | None = None) -> dict[str, Any] | None:
    """The progress of a run the hub has, as of event ``upto_seq`` (a frame's last), or None."""
    live = hub.facts(run_id, upto_seq)
    return None if live is None else progress(Position.of_live(live))
