"""The stream hub: each active run's ordered event log, and notices for every socket.

Sockets do not get pushed copies of events. Each keeps a cursor (the last sequence
number it has) and pulls "everything after my cursor" at its own pace, so a slow
client holds no buffer here and never slows training or other clients; memory is
the run's own log, which the store also keeps once written. A finished run's log is
dropped from memory once the store has all of it; cursors then read from the store.

Readers see a run's events in sealed chunks: every ~50 ms the new events become one
chunk, serialized to JSON once and shared by every socket, so 50 viewers cost one
encoding, not 50. Only a reader whose cursor falls inside a chunk gets a custom tail.
"""
from __future__ import annotations

import bisect
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from engine.events import FINAL_KINDS, BatchEvent, EpochEvent, Event, StartEvent, event_to_dict, to_jsonable

from .insight import split_final
from .run_view import step_facts

MAX_NOTICES = 1000
KEEP_FINISHED_LOGS = 8
SEAL_SECONDS = 0.05
MAX_CHUNK_EVENTS = 2000


@dataclass(frozen=True)
class Chunk:
    """Consecutive events of one run as a serialized frame entry (see README, "Live stream")."""

    first_seq: int
    last_seq: int
    json: str


def encode(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"), allow_nan=False)


def with_progress(entry: str, progress: dict[str, Any]) -> str:
    """A serialized frame entry with ``"progress"`` added: chunks are encoded once for every
    socket, while progress (its ETA) is worked out as each frame is sent."""
    return entry[:-1] + ',"progress":' + encode(progress) + "}"


@dataclass(frozen=True)
class LiveFacts:
    """What the hub knows of a run's position: raw facts, worked out by ``app.run_view``."""

    epochs: int
    total_steps: int
    latest: dict[str, Any] | None  # ``step_facts`` of the log's last batch or epoch event
    started_at: float  # time.time() when the start event arrived
    final: Event | None  # once published (the store then holds the final status)


@dataclass
class RunLog:
    """The events of one run, in order; ``events[i].seq == i``."""

    run_id: int = 0
    events: list[Event] = field(default_factory=list)
    finished: bool = False
    start: StartEvent | None = None
    started_at: float = 0.0
    chunks: list[Chunk] = field(default_factory=list)
    sealed_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def chunks_after(self, after_seq: int, max_events: int) -> tuple[list[tuple[int, str]], int]:
        """Serialized frame entries for the sealed events after ``after_seq`` (about ``max_events`` at
        most), each with its last sequence number, and the last sequence number they hold
        (``after_seq`` when there is nothing new)."""
        with self.lock:
            self._seal()
            starts = [c.first_seq for c in self.chunks]
            i = max(bisect.bisect_right(starts, after_seq) - 1, 0)
            out, cursor = [], after_seq
            for chunk in self.chunks[i:]:
                if chunk.last_seq <= cursor:
                    continue
                if chunk.first_seq <= cursor:  # the cursor is inside this chunk: a tail just for this reader
                    tail = events_to_columns(self.run_id, self.events[cursor + 1 : chunk.last_seq + 1])
                    out.append((chunk.last_seq, encode(tail)))
                else:
                    out.append((chunk.last_seq, chunk.json))
                cursor = chunk.last_seq
                if cursor - after_seq >= max_events:
                    break
            return out, cursor

    @property
    def sealed_seq(self) -> int:
        return self.chunks[-1].last_seq if self.chunks else -1

    def _seal(self) -> None:
        now = time.monotonic()
        while True:
            pending = len(self.events) - 1 - self.sealed_seq
            due = self.finished or pending >= MAX_CHUNK_EVENTS or now - self.sealed_at >= SEAL_SECONDS
            if pending <= 0 or not due:
                return
            first = self.sealed_seq + 1
            events = self.events[first : first + MAX_CHUNK_EVENTS]
            self.chunks.append(Chunk(events[0].seq, events[-1].seq, encode(events_to_columns(self.run_id, events))))
            self.sealed_at = now

    @property
    def last_seq(self) -> int:
        return len(self.events) - 1

    def facts(self, upto_seq: int | None = None) -> LiveFacts | None:
        """The run's position as of event ``upto_seq`` (the latest when None); None before it started."""
        last = self.last_seq if upto_seq is None else min(upto_seq, self.last_seq)
        if self.start is None or last < 0:
            return None
        final = self.events[last] if self.events[last].kind in FINAL_KINDS else None
        latest = step_facts(self.events, last)
        return LiveFacts(self.start.epochs, self.start.total_steps, latest, self.started_at, final)


class StreamHub:
    """Per-run event logs with sequence numbers, plus a bounded list of notices (run changes)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._logs: dict[int, RunLog] = {}
        self._finished_order: deque[int] = deque()
        self._notices: deque[tuple[int, dict]] = deque(maxlen=MAX_NOTICES)
        self._notice_version = 0

    # -- run logs ------------------------------------------------------------------
    def open_run(self, run_id: int) -> None:
        with self._lock:
            self._logs[run_id] = RunLog(run_id)

    def publish(self, run_id: int, event: Event) -> None:
        """Append an event (called by the training thread; never blocks on clients)."""
        log = self._logs[run_id]
        log.events.append(event)
        if isinstance(event, StartEvent):  # after the append: a reader that sees ``start`` finds it in the log
            log.started_at = time.time()
            log.start = event

    def close_run(self, run_id: int) -> None:
        """The run ended and the store holds all its events; keep the log a while for readers."""
        with self._lock:
            log = self._logs.get(run_id)
            if log is None:
                return
            log.finished = True
            self._finished_order.append(run_id)
            while len(self._finished_order) > KEEP_FINISHED_LOGS:
                self._logs.pop(self._finished_order.popleft(), None)

    def forget(self, run_id: int) -> None:
        with self._lock:
            self._logs.pop(run_id, None)

    def chunks_after(self, run_id: int, after_seq: int,
                     max_events: int) -> tuple[list[tuple[int, str]], int, bool] | None:
        """Sealed frame entries after ``after_seq`` from memory (each with its last sequence number),
        the new cursor, and whether the reader now has the whole run; None when this run's log is
        not in memory (read the store)."""
        log = self._logs.get(run_id)
        if log is None:
            return None
        finished = log.finished  # read first: once finished, every event is in the log
        parts, cursor = log.chunks_after(after_seq, max_events)
        return parts, cursor, finished and cursor == log.last_seq

    def facts(self, run_id: int, upto_seq: int | None = None) -> LiveFacts | None:
        """The run's position as of event ``upto_seq`` (the latest when None), or None when its
        log is not in memory or it has not started."""
        log = self._logs.get(run_id)
        return log.facts(upto_seq) if log else None

    # -- notices -------------------------------------------------------------------
    def notify(self, message: dict[str, Any]) -> None:
        """Queue a message for every socket (run created/changed/deleted, data progress)."""
        with self._lock:
            self._notice_version += 1
            self._notices.append((self._notice_version, message))

    def notices_after(self, version: int) -> tuple[int, list[dict], bool]:
        """Notices newer than ``version``, the current version, and whether some were lost (too far behind)."""
        with self._lock:
            current = self._notice_version
            if not self._notices or version >= current:
                return current, [], False
            oldest = self._notices[0][0]
            missed = version + 1 < oldest
            return current, [m for v, m in self._notices if v > version], missed

    @property
    def notice_version(self) -> int:
        return self._notice_version


def events_to_columns(run_id: int, events: list[Event]) -> dict[str, Any]:
    """A frame entry for one run: its events as column arrays (the /metrics format)."""
    out: dict[str, Any] = {"run": run_id, "first_seq": events[0].seq, "last_seq": events[-1].seq}
    batches = [e for e in events if isinstance(e, BatchEvent)]
    if batches:
        out["batch"] = {
            "seq": [e.seq for e in batches], "step": [e.step for e in batches], "epoch": [e.epoch for e in batches],
            "batch": [e.batch for e in batches], "loss": to_jsonable([e.loss for e in batches]),
            "data_loss": to_jsonable([e.data_loss for e in batches]), "penalty": to_jsonable([e.penalty for e in batches]),
        }
    epochs = [to_jsonable(e) for e in events if isinstance(e, EpochEvent)]
    if epochs:
        out["epoch"] = {key: [e[key] for e in epochs] for key in epochs[0]}
    for e in events:
        if isinstance(e, StartEvent):
            out["start"] = event_to_dict(e)
        elif e.kind in ("done", "failed", "cancelled"):
            out["final"] = split_final(event_to_dict(e))[0]  # as the store keeps it: one shape live or late
    return out


def stored_to_frame(stored: dict[str, Any], after_seq: int) -> dict[str, Any] | None:
    """Turn a store read (``Store.read_events``) into a frame entry, or None if it holds nothing new."""
    seqs = list(stored.get("batch", {}).get("seq", [])) + list(stored.get("epoch", {}).get("seq", []))
    for key in ("start", "final"):
        if key in stored:
            seqs.append(stored[key]["seq"])
    if not seqs:
        return None
    out = {"run": stored["run"], "first_seq": after_seq + 1, "last_seq": max(seqs)}
    for key in ("start", "final"):
        if key in stored:
            out[key] = stored[key]
    if stored["batch"]["seq"]:
        out["batch"] = stored["batch"]
    if stored["epoch"]["seq"]:
        out["epoch"] = stored["epoch"]
    return out

