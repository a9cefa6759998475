"""Bridges one run's engine events to the hub (at once) and the store (in batches)."""
from __future__ import annotations

import logging

from engine.events import FINAL_KINDS, EpochEvent, Event, StartEvent

from .hub import StreamHub
from .store import Store

log = logging.getLogger(__name__)

# Flush batch rows at least this often within a long epoch.
MAX_PENDING = 2000


class Recorder:
    """Publishes every event to the hub and writes them to the store once per epoch.

    Each flush is one transaction, so an epoch's rows are committed atomically. The
    final event is published only after it is stored with the run's final status, so
    a client that has seen it finds the run finished in the API too.
    """

    def __init__(self, store: Store, hub: StreamHub, run_id: int):
        self.store = store
        self.hub = hub
        self.run_id = run_id
        self.pending: list[Event] = []
        self.final: Event | None = None

    def on_event(self, event: Event) -> None:
        self.pending.append(event)
        if event.kind in FINAL_KINDS:
            self.final = event  # published by finish(), once stored
            return
        self.hub.publish(self.run_id, event)
        if isinstance(event, (EpochEvent, StartEvent)) or len(self.pending) >= MAX_PENDING:
            self.flush()

    def flush(self, final_status: str | None = None, reason: str | None = None) -> None:
        self.store.record(self.run_id, self.pending, final_status, reason)
        self.pending = []  # only once written: a failed write keeps them for the next try

    def finish(self, status: str, reason: str | None) -> None:
        """Write what is left together with the run's final status (one transaction)."""
        try:
            self.flush(status, reason)
        except Exception:
            log.exception("run %s: could not save its last events; marking it %s", self.run_id, status)
            self.store.set_status(self.run_id, status, reason)
        if self.final is not None:
            self.hub.publish(self.run_id, self.final)
